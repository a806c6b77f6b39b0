//! The parsers are total: the fuzz targets' entry points run over random bytes and over
//! mutations (flipped bytes, cuts) of real records from the simulator, and never panic.
//! (`scripts/fuzz.sh` explores far more; see README.md. This keeps the property in the normal suite.)

use card_io::apdu::Command;
use card_io::fuzzing;
use card_io::mynumber::aid;
use card_io::transport::CardTransport;
use card_sim::{Profile, SimTransport};

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// `seed` with a few bytes changed and possibly cut short.
    fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for _ in 0..=self.below(4) {
            if !out.is_empty() {
                let at = self.below(out.len());
                out[at] = self.next() as u8;
            }
        }
        if self.below(3) == 0 {
            out.truncate(self.below(out.len() + 1));
        }
        out
    }
}

/// Reads EF `fid` of `df` from the simulator's normal card with raw commands.
fn raw_file(df: &[u8], verify: Option<(u8, &[u8])>, fid: u16) -> Vec<u8> {
    let profile = Profile::load("normal").unwrap();
    let mut t = SimTransport::new(profile.card());
    let ok = |t: &mut SimTransport, cmd: Command| {
        let r = t.transmit(&cmd).unwrap();
        assert!(r.sw().is_ok(), "{cmd:?}: {r:?}");
        r.into_data().to_vec()
    };
    ok(&mut t, Command::select_df(df).unwrap());
    if let Some((p2, secret)) = verify {
        ok(&mut t, Command::verify(p2, secret).unwrap());
    }
    ok(&mut t, Command::select_ef(fid));
    ok(&mut t, Command::read_binary_extended(0, 65_536).unwrap())
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let pin_b = Profile::load("normal").unwrap().pin_b;
    let face = raw_file(&aid::KENMEN_KAKUNIN, Some((0x92, pin_b.as_bytes())), 0x0002);
    let cvc = raw_file(&aid::KENMEN_KAKUNIN, None, 0x0004);
    let cert = raw_file(&aid::JPKI, None, 0x000A);
    let apdus = [
        vec![0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00],
        vec![0x61, 0x10, 0xFF, 0x6C, 0x05, 0xFF, 0x01, 0x90, 0x00],
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3_000 {
        let len = rng.below(600);
        let noise = rng.bytes(len);
        fuzzing::apdu(&noise);
        fuzzing::card_records(&noise);
        fuzzing::certificate_chain(&noise);
        let apdu = &apdus[rng.below(apdus.len())];
        fuzzing::apdu(&rng.mutate(apdu));
        fuzzing::card_records(&rng.mutate(&face));
        fuzzing::card_records(&rng.mutate(&cvc));
        fuzzing::certificate_chain(&rng.mutate(&cert));
    }
}

#[test]
fn every_cut_of_a_real_record_is_an_error() {
    let pin_b = Profile::load("normal").unwrap().pin_b;
    let face = raw_file(&aid::KENMEN_KAKUNIN, Some((0x92, pin_b.as_bytes())), 0x0002);
    assert!(card_io::mynumber::SurfaceRecord::parse(&face).is_ok());
    let header_and_body = face.len() - face.iter().rev().take_while(|b| **b == 0xFF).count();
    for len in (0..header_and_body).step_by(7) {
        assert!(
            card_io::mynumber::SurfaceRecord::parse(&face[..len]).is_err(),
            "cut at {len}"
        );
    }
}
