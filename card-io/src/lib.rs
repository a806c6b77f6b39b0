//! The My Number card over PC/SC: APDUs, transports, reader events and card detection. The card
//! simulator for development and tests is the `card-sim` crate.
//!
//! A reader application watches readers with [`monitor::CardMonitor`], connects with
//! [`pcsc_transport::PcscTransport`] and talks to the card through the
//! [`transport::CardTransport`] trait (for example [`mynumber::detect`]).

pub mod aid;
pub mod apdu;
pub mod certificate;
pub mod forbidden;
pub mod fuzzing;
pub mod guard;
pub mod monitor;
pub mod mynumber;
pub mod pcsc_transport;
pub mod trace;
pub mod transport;
