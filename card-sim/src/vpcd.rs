//! Inserting a [`VirtualCard`] into vsmartcard's vpcd, a pcscd reader driver that listens on TCP.
//!
//! The card is the TCP client: connecting inserts it, closing removes it. Frames are a big-endian
//! `u16` length and a payload; a 1-byte payload is a control code, anything else a command APDU.
//! Sockets use `TCP_NODELAY`, one write per frame and `TCP_QUICKACK` re-armed after each read,
//! otherwise Nagle and delayed ACKs cost 40–90 ms per APDU.
//!
//! For development and CI only: vpcd listens on every interface and must never run on a kiosk.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::VirtualCard;
use card_io::apdu::StatusWord;

/// How long to wait for vpcd to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// vpcd control codes (1-byte frames).
mod control {
    pub const POWER_OFF: u8 = 0;
    pub const POWER_ON: u8 = 1;
    pub const RESET: u8 = 2;
    pub const GET_ATR: u8 = 4;
}

/// Why the virtual card could not be inserted or removed.
#[derive(Debug, thiserror::Error)]
pub enum VpcdError {
    /// Nothing accepted the connection.
    #[error("cannot connect to vpcd at {addr} (is pcscd running with the vpcd driver?): {source}")]
    Connect {
        /// Where vpcd was expected.
        addr: SocketAddr,
        /// The connection error.
        #[source]
        source: io::Error,
    },
    /// The socket or the serving thread could not be set up.
    #[error("vpcd connection setup failed: {0}")]
    Setup(#[from] io::Error),
    /// The thread serving the card panicked.
    #[error("the virtual card thread panicked")]
    ServerPanicked,
}

/// A virtual card sitting in a vpcd slot; removed by [`VpcdCard::remove`] or on drop.
pub struct VpcdCard {
    socket: TcpStream,
    server: Option<JoinHandle<VirtualCard>>,
}

impl VpcdCard {
    /// Connects to vpcd at `addr` (inserting the card) and serves it from a thread.
    pub fn insert(card: VirtualCard, addr: SocketAddr) -> Result<Self, VpcdError> {
        let socket = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .map_err(|source| VpcdError::Connect { addr, source })?;
        socket.set_nodelay(true)?;
        rearm_quickack(&socket)?;
        let served = socket.try_clone()?;
        let server = thread::Builder::new()
            .name("vpcd-card".into())
            .spawn(move || serve(served, card))?;
        Ok(Self {
            socket,
            server: Some(server),
        })
    }

    /// Whether the connection already ended (vpcd went away, or a fault removed the card).
    pub fn is_closed(&self) -> bool {
        self.server.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Closes the connection (removing the card) and returns the card as it was left.
    pub fn remove(mut self) -> Result<VirtualCard, VpcdError> {
        // `server` is only taken here or in `drop`, so it is always present.
        let server = self.server.take().ok_or(VpcdError::ServerPanicked)?;
        close(&self.socket, server)
    }
}

impl Drop for VpcdCard {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            if let Err(err) = close(&self.socket, server) {
                tracing::warn!(%err, "removing the virtual card");
            }
        }
    }
}

/// Shuts the socket down, which ends the serving thread, and waits for it.
fn close(socket: &TcpStream, server: JoinHandle<VirtualCard>) -> Result<VirtualCard, VpcdError> {
    // Fails only if vpcd already closed the connection, which ends the thread as well.
    let _ = socket.shutdown(Shutdown::Both);
    server.join().map_err(|_| VpcdError::ServerPanicked)
}

/// Answers vpcd until the connection ends, then hands the card back.
fn serve(mut socket: TcpStream, mut card: VirtualCard) -> VirtualCard {
    match serve_frames(&mut socket, &mut card) {
        Ok(()) => tracing::debug!("vpcd connection closed"),
        Err(err) => tracing::debug!(%err, "vpcd connection ended"),
    }
    card
}

/// Serves frames until vpcd closes the connection or a [`Fault::RemoveAfter`](crate::Fault)
/// takes the card out, which closes the connection from this side.
fn serve_frames(socket: &mut TcpStream, card: &mut VirtualCard) -> io::Result<()> {
    while !card.is_removed() {
        let Some(frame) = read_frame(socket)? else {
            return Ok(());
        };
        match frame.as_slice() {
            [control::POWER_OFF | control::POWER_ON | control::RESET] => card.reset(),
            [control::GET_ATR] => write_frame(socket, card.atr())?,
            [code] => tracing::debug!(code, "ignoring unknown vpcd control code"),
            apdu => write_frame(socket, &Zeroizing::new(card.process(apdu)))?,
        }
    }
    tracing::debug!("virtual card removed by fault");
    socket.shutdown(Shutdown::Both)
}

/// Reads one frame; `None` at a clean end of stream.
///
/// vpcd writes the length and the payload separately, so the ACK for the length must not be
/// delayed either: quick ACK is re-armed after each of the two reads.
fn read_frame(socket: &mut TcpStream) -> io::Result<Option<Zeroizing<Vec<u8>>>> {
    let mut len = [0; 2];
    match socket.read_exact(&mut len) {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::UnexpectedEof => return Ok(None),
        Err(err) => return Err(err),
    }
    rearm_quickack(socket)?;
    let mut payload = Zeroizing::new(vec![0; usize::from(u16::from_be_bytes(len))]);
    socket.read_exact(&mut payload)?;
    rearm_quickack(socket)?;
    Ok(Some(payload))
}

/// Writes one frame with a single write; a payload too big for a frame becomes `6F00`.
fn write_frame(socket: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let fallback = [
        StatusWord::UNKNOWN_ERROR.sw1(),
        StatusWord::UNKNOWN_ERROR.sw2(),
    ];
    let (len, payload) = match u16::try_from(payload.len()) {
        Ok(len) => (len, payload),
        Err(_) => {
            tracing::warn!(len = payload.len(), "response too long for a vpcd frame");
            (2, &fallback[..])
        }
    };
    let mut frame = Zeroizing::new(Vec::with_capacity(2 + payload.len()));
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    socket.write_all(&frame)
}

#[cfg(target_os = "linux")]
fn rearm_quickack(socket: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(socket).set_tcp_quickack(true)
}

#[cfg(not(target_os = "linux"))]
fn rearm_quickack(_socket: &TcpStream) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;
    use card_io::apdu::Command;
    use card_io::mynumber::aid;

    /// A stand-in for vpcd: accepts one card and talks to it.
    struct FakeVpcd {
        stream: TcpStream,
    }

    impl FakeVpcd {
        fn send(&mut self, payload: &[u8]) {
            let mut frame = u16::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
            frame.extend_from_slice(payload);
            self.stream.write_all(&frame).unwrap();
        }

        fn receive(&mut self) -> Vec<u8> {
            read_frame(&mut self.stream).unwrap().unwrap().to_vec()
        }
    }

    fn insert(card: VirtualCard) -> (VpcdCard, FakeVpcd) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let inserted = VpcdCard::insert(card, listener.local_addr().unwrap()).unwrap();
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        (inserted, FakeVpcd { stream })
    }

    #[test]
    fn answers_atr_and_apdus() {
        let (card, mut vpcd) = insert(VirtualCard::my_number());
        vpcd.send(&[control::POWER_ON]);
        vpcd.send(&[control::GET_ATR]);
        assert_eq!(vpcd.receive(), VirtualCard::CONTACT_ATR);
        vpcd.send(&Command::select_df(&aid::JPKI).unwrap().to_bytes());
        assert_eq!(vpcd.receive(), [0x90, 0x00]);
        vpcd.send(&Command::select_ef(0x0006).to_bytes());
        assert_eq!(vpcd.receive(), [0x90, 0x00]);
        vpcd.send(&[control::RESET]);
        vpcd.send(&Command::read_binary(0, 1).unwrap().to_bytes());
        assert_eq!(vpcd.receive(), [0x69, 0x86], "reset clears the selection");
        card.remove().unwrap();
    }

    #[test]
    fn remove_closes_the_connection_and_returns_the_card() {
        let (card, mut vpcd) = insert(VirtualCard::juki());
        vpcd.send(&Command::select_df(&aid::JPKI).unwrap().to_bytes());
        assert_eq!(vpcd.receive(), [0x90, 0x00]);
        let mut returned = card.remove().unwrap();
        let mut rest = Vec::new();
        assert_eq!(
            vpcd.stream.read_to_end(&mut rest).unwrap(),
            0,
            "vpcd sees EOF"
        );
        // The card comes back as it was left: the JPKI AP is still selected.
        let answer = returned.process(&Command::select_ef(0x0006).to_bytes());
        assert_eq!(answer, [0x90, 0x00]);
    }

    #[test]
    fn card_leaves_when_vpcd_closes() {
        let (card, vpcd) = insert(VirtualCard::my_number());
        drop(vpcd);
        assert_eq!(card.remove().unwrap().apdus_answered(), 0);
    }

    #[test]
    fn remove_after_fault_closes_the_connection() {
        let card = VirtualCard::my_number().with_fault(crate::Fault::RemoveAfter(1));
        let (card, mut vpcd) = insert(card);
        vpcd.send(&[control::GET_ATR]);
        assert_eq!(vpcd.receive(), VirtualCard::CONTACT_ATR);
        vpcd.send(&Command::select_df(&aid::JPKI).unwrap().to_bytes());
        assert_eq!(vpcd.receive(), [0x90, 0x00]);
        let mut rest = Vec::new();
        assert_eq!(
            vpcd.stream.read_to_end(&mut rest).unwrap(),
            0,
            "closed by the card"
        );
        while !card.is_closed() {
            thread::sleep(Duration::from_millis(5));
        }
        assert!(card.remove().unwrap().is_removed());
    }

    #[test]
    fn insert_fails_cleanly_when_nothing_listens() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        match VpcdCard::insert(VirtualCard::my_number(), addr) {
            Err(VpcdError::Connect { addr: a, .. }) => assert_eq!(a, addr),
            other => panic!("expected a connect error, got {:?}", other.err()),
        }
    }

    #[test]
    fn oversized_response_becomes_6f00() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        write_frame(&mut client, &vec![0; 70_000]).unwrap();
        assert_eq!(
            read_frame(&mut server).unwrap().unwrap().as_slice(),
            [0x6F, 0x00]
        );
    }
}
