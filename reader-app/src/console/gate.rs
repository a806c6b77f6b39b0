//! Who may use the console: sign-in with a `[staff]` member's id and PIN (PBKDF2) or the
//! reception token, refused sign-ins limited per address, and the signed-in sessions (a random
//! cookie value and a CSRF token each, kept only in memory).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::lang::Lang;
use crate::session::PinEntry;
use crate::staff::StaffConfig;

/// The window over which refused sign-ins are counted.
const WINDOW: Duration = Duration::from_secs(60);
/// The most sessions at once; the oldest goes first.
const MAX_SESSIONS: usize = 64;
/// The operator id of a sign-in with the reception token.
pub const TOKEN_OPERATOR: &str = "reception-token";

/// What a member of staff typed.
pub enum Credential {
    Staff { id: String, pin: PinEntry },
    Token(zeroize::Zeroizing<String>),
}

impl Credential {
    /// `staff` or `token`, for the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Staff { .. } => "staff",
            Credential::Token(_) => "token",
        }
    }
}

/// The answer to a sign-in.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Signed in: the session's cookie value.
    Accepted(String),
    Refused,
    /// Too many refusals from this address lately: not even checked.
    Limited,
}

/// One signed-in member of staff.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub operator: String,
    /// Sent back with every acknowledgement.
    pub csrf: String,
    pub lang: Lang,
    until: Instant,
}

pub struct Gate {
    staff: StaffConfig,
    /// SHA-256 of the reception token (compared as digests, not byte by byte).
    token: Option<ring::digest::Digest>,
    max_failures: u32,
    session_length: Duration,
    failures: HashMap<IpAddr, (Instant, u32)>,
    sessions: HashMap<String, SignedIn>,
}

fn digest(text: &str) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
}

/// 32 random bytes in hex.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    // The system random source failing leaves the bytes zero only if the kernel is broken;
    // refuse to make a guessable session then.
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the system random source works");
    hex::encode(bytes)
}

impl Gate {
    pub fn new(
        staff: StaffConfig,
        token: Option<&str>,
        max_failures: u32,
        session_length: Duration,
    ) -> Self {
        Self {
            staff,
            token: token.map(digest),
            max_failures,
            session_length,
            failures: HashMap::new(),
            sessions: HashMap::new(),
        }
    }

    /// Checks `credential` from `from`, unless `from` was refused too often within a minute.
    pub fn sign_in(&mut self, from: IpAddr, credential: &Credential, lang: Lang) -> Verdict {
        let now = Instant::now();
        self.failures
            .retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
        if self
            .failures
            .get(&from)
            .is_some_and(|(_, n)| *n >= self.max_failures)
        {
            return Verdict::Limited;
        }
        let Some(operator) = self.check(credential) else {
            self.failures.entry(from).or_insert((now, 0)).1 += 1;
            return Verdict::Refused;
        };
        self.sessions.retain(|_, s| s.until > now);
        if self.sessions.len() >= MAX_SESSIONS {
            let oldest = self
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.until)
                .map(|(k, _)| k.clone());
            oldest.map(|k| self.sessions.remove(&k));
        }
        let cookie = random_hex();
        self.sessions.insert(
            cookie.clone(),
            SignedIn {
                operator,
                csrf: random_hex(),
                lang,
                until: now + self.session_length,
            },
        );
        Verdict::Accepted(cookie)
    }

    fn check(&self, credential: &Credential) -> Option<String> {
        match credential {
            Credential::Staff { id, pin } => self
                .staff
                .check(pin)
                .filter(|operator| operator.0 == *id)
                .map(|operator| operator.0),
            Credential::Token(token) => {
                let (own, given) = (self.token.as_ref()?, digest(token));
                (own.as_ref() == given.as_ref()).then(|| TOKEN_OPERATOR.to_owned())
            }
        }
    }

    /// The session of `cookie`, while it lasts.
    pub fn session(&self, cookie: &str) -> Option<&SignedIn> {
        self.sessions
            .get(cookie)
            .filter(|s| s.until > Instant::now())
    }

    /// Changes the page language of `cookie`'s session.
    pub fn set_lang(&mut self, cookie: &str, lang: Lang) {
        if let Some(s) = self.sessions.get_mut(cookie) {
            s.lang = lang;
        }
    }

    pub fn sign_out(&mut self, cookie: &str) {
        self.sessions.remove(cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::{hash_pin, StaffMember};
    use std::num::NonZeroU32;

    fn gate() -> Gate {
        let staff = StaffConfig {
            card_reader: String::new(),
            members: vec![StaffMember {
                id: "nurse-7".into(),
                pin_hash: hash_pin("24680", b"salt", NonZeroU32::new(1000).unwrap()),
                card_serial: None,
            }],
        };
        Gate::new(staff, Some(&"t".repeat(40)), 3, Duration::from_secs(60))
    }

    fn token(t: &str) -> Credential {
        Credential::Token(zeroize::Zeroizing::new(t.into()))
    }

    fn staff(id: &str, pin: &str) -> Credential {
        Credential::Staff {
            id: id.into(),
            pin: PinEntry::new(pin),
        }
    }

    #[test]
    fn the_right_pin_of_the_named_member_or_the_token_signs_in() {
        let mut g = gate();
        let here = IpAddr::from([10, 0, 0, 5]);
        let Verdict::Accepted(cookie) = g.sign_in(here, &staff("nurse-7", "24680"), Lang::En)
        else {
            panic!("refused")
        };
        let s = g.session(&cookie).unwrap();
        assert_eq!((s.operator.as_str(), s.lang), ("nurse-7", Lang::En));
        assert_eq!(s.csrf.len(), 64);
        assert!(matches!(
            g.sign_in(here, &token(&"t".repeat(40)), Lang::Ja),
            Verdict::Accepted(_)
        ));
        g.sign_out(&cookie);
        assert!(g.session(&cookie).is_none());
        assert_eq!(
            g.sign_in(here, &staff("clerk-1", "24680"), Lang::Ja),
            Verdict::Refused,
            "another member's id with this PIN"
        );
    }

    #[test]
    fn refusals_are_limited_per_address() {
        let mut g = gate();
        let (here, there) = (IpAddr::from([10, 0, 0, 5]), IpAddr::from([10, 0, 0, 6]));
        for _ in 0..3 {
            assert_eq!(g.sign_in(here, &token("wrong"), Lang::Ja), Verdict::Refused);
        }
        let right = token(&"t".repeat(40));
        assert_eq!(g.sign_in(here, &right, Lang::Ja), Verdict::Limited);
        assert!(matches!(
            g.sign_in(there, &right, Lang::Ja),
            Verdict::Accepted(_)
        ));
        let no_token = Gate::new(StaffConfig::default(), None, 3, Duration::from_secs(60));
        let mut no_token = no_token;
        assert_eq!(no_token.sign_in(there, &right, Lang::Ja), Verdict::Refused);
    }
}
