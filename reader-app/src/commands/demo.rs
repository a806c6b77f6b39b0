//! Demo controls: plug the virtual My Number card (a simulator) into a vpcd slot so the
//! real pcscd sees it, as it would a physical card; pick the card profile and who stands in
//! front of the (simulated) camera. The card's profile is one of the card simulator's
//! (`card-sim/profiles/*.toml`, TEST keys and certificates from the simulator's TEST CA).

use crate::kiosk::sim::SharedChoice;
use card_sim::{vpcd::VpcdCard, Profile};
use slint::ComponentHandle;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

/// First vpcd slot; slot n listens on this port + n and is named "Virtual PCD 00 0n".
const VPCD_FIRST_PORT: u16 = 35963;

/// The PC/SC name of the vpcd reader that serves `port`.
pub fn reader_name(port: u16) -> String {
    format!("Virtual PCD 00 {:02}", port.saturating_sub(VPCD_FIRST_PORT))
}

/// The virtual card currently plugged in, if any. Dropping it removes the card.
#[derive(Clone, Default)]
pub struct DemoCard(Arc<Mutex<Option<VpcdCard>>>);

/// Connects the window's demo buttons to a virtual card on vpcd `port`.
pub fn attach(window: &ui::KioskWindow, port: u16, choice: SharedChoice) -> DemoCard {
    let card = DemoCard::default();
    attach_pickers(window, choice.clone());
    let chosen = choice;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let place = card.clone();
    let view = window.as_weak();
    window.on_demo_place_card(move || {
        let mut slot = place.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return;
        }
        let profile = crate::kiosk::sim::choice(&chosen).profile;
        let inserted = Profile::load(profile)
            .map_err(|e| e.to_string())
            .and_then(|p| VpcdCard::insert(p.card(), addr).map_err(|e| e.to_string()));
        match inserted {
            Ok(c) => *slot = Some(c),
            Err(e) => {
                tracing::error!(error = %e, %addr, "cannot plug the virtual card into vpcd");
                if let Some(w) = view.upgrade() {
                    w.set_error_message(format!("仮想カードを挿入できません: {e}").into());
                    w.set_error_code(String::new().into());
                    w.set_screen(ui::Screen::Error);
                }
            }
        }
    });
    let remove = card.clone();
    window.on_demo_remove_card(move || {
        remove
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    });
    card
}

/// The profile and person pickers: view-model state the simulators read.
fn attach_pickers(window: &ui::KioskWindow, choice: SharedChoice) {
    let current = crate::kiosk::sim::choice(&choice);
    window.set_demo_profile(current.profile.into());
    window.set_demo_holder(current.holder);
    let view = window.as_weak();
    let shared = choice.clone();
    window.on_demo_next_profile(move || {
        let mut c = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let names = Profile::names();
        let at = names.iter().position(|p| *p == c.profile).unwrap_or(0);
        c.profile = names[(at + 1) % names.len()];
        if let Some(w) = view.upgrade() {
            w.set_demo_profile(c.profile.into());
        }
    });
    let view = window.as_weak();
    window.on_demo_toggle_person(move || {
        let mut c = choice.lock().unwrap_or_else(PoisonError::into_inner);
        c.holder = !c.holder;
        if let Some(w) = view.upgrade() {
            w.set_demo_holder(c.holder);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpcd_reader_names_follow_ports() {
        assert_eq!(reader_name(35963), "Virtual PCD 00 00");
        assert_eq!(reader_name(35964), "Virtual PCD 00 01");
    }
}
