//! `[keypad]`: the USB numeric keypad's key map. Keys arrive as the window's key events (Slint
//! under X11/winit, libinput under linuxkms) and become [`Key`]s; the digits are always digits.

use serde::Deserialize;

use crate::session::Key;
use crate::setting::Invalid;

/// Which keypad key does what. A key is named by the character it types (`"-"`, `"+"`, `"*"`,
/// `"/"`, `"."`) or by name: `Enter` (also the keypad's Enter), `Backspace`, `Delete`,
/// `Escape`, `Tab`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KeypadConfig {
    /// false: keys are ignored and no keypad hints are shown.
    pub enabled: bool,
    pub enter: Vec<String>,
    /// Removes the last digit.
    pub back: Vec<String>,
    pub cancel: Vec<String>,
    pub call_staff: Vec<String>,
    /// Says the current prompt again.
    pub repeat: Vec<String>,
    /// Says the keys, switches assisted mode on and calls staff.
    pub help: Vec<String>,
    /// Switches assisted mode on or off.
    pub assisted: Vec<String>,
}

impl Default for KeypadConfig {
    /// Common numeric keypads: Enter, Backspace, and the operator keys beside the digits.
    fn default() -> Self {
        let keys = |names: &[&str]| names.iter().map(|&n| n.to_owned()).collect();
        Self {
            enabled: true,
            enter: keys(&["Enter"]),
            back: keys(&["Backspace", "Delete"]),
            cancel: keys(&["-", "Escape"]),
            call_staff: keys(&["+"]),
            repeat: keys(&["*"]),
            help: keys(&["/"]),
            assisted: keys(&["."]),
        }
    }
}

/// The text Slint gives a named key (its `Key` code points).
fn key_text(name: &str) -> Option<String> {
    Some(match name {
        "Enter" => "\n".into(),
        "Backspace" => "\u{8}".into(),
        "Tab" => "\t".into(),
        "Escape" => "\u{1b}".into(),
        "Delete" => "\u{7f}".into(),
        _ => {
            let mut chars = name.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return None;
            };
            if c.is_ascii_digit() {
                return None;
            }
            c.to_string()
        }
    })
}

impl KeypadConfig {
    fn bindings(&self) -> [(&'static str, &[String], Key); 7] {
        [
            ("keypad.enter", &self.enter, Key::Enter),
            ("keypad.back", &self.back, Key::Back),
            ("keypad.cancel", &self.cancel, Key::Cancel),
            ("keypad.call_staff", &self.call_staff, Key::CallStaff),
            ("keypad.repeat", &self.repeat, Key::Repeat),
            ("keypad.help", &self.help, Key::Help),
            ("keypad.assisted", &self.assisted, Key::Assisted),
        ]
    }

    /// Every name is a known key or one character other than a digit, bound once.
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        let mut seen = Vec::new();
        for (setting, names, _) in self.bindings() {
            // The spoken and shown hints name the first key of every binding but assisted.
            if self.enabled && names.is_empty() && setting != "keypad.assisted" {
                let expected = "at least one key (the spoken hints name the first)";
                return Err(Invalid::new(setting, expected, "[]"));
            }
            for name in names {
                let expected = "a key name (Enter, Backspace, Delete, Escape, Tab) or one character other than a digit, bound once";
                match key_text(name) {
                    Some(text) if !seen.contains(&text) => seen.push(text),
                    _ => return Err(Invalid::new(setting, expected, name)),
                }
            }
        }
        Ok(())
    }

    /// The key a key event's text stands for, if the map uses it.
    pub fn key(&self, text: &str) -> Option<Key> {
        if !self.enabled {
            return None;
        }
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.clone().next()) {
            if let Some(d) = c.to_digit(10) {
                return u8::try_from(d).ok().map(Key::Digit);
            }
        }
        self.bindings()
            .into_iter()
            .find(|(_, names, _)| names.iter().any(|n| key_text(n).is_some_and(|t| t == text)))
            .map(|(_, _, key)| key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_default_map_reads_a_common_numeric_keypad() {
        let k = KeypadConfig::default();
        assert_eq!(k.key("5"), Some(Key::Digit(5)));
        assert_eq!(k.key("\n"), Some(Key::Enter));
        assert_eq!(k.key("\u{8}"), Some(Key::Back));
        assert_eq!(k.key("-"), Some(Key::Cancel));
        assert_eq!(k.key("+"), Some(Key::CallStaff));
        assert_eq!(k.key("*"), Some(Key::Repeat));
        assert_eq!(k.key("/"), Some(Key::Help));
        assert_eq!(k.key("."), Some(Key::Assisted));
        assert_eq!(k.key("a"), None);
        let off = KeypadConfig {
            enabled: false,
            ..KeypadConfig::default()
        };
        assert_eq!(off.key("5"), None);
    }

    #[test]
    fn keypad_section_remaps_keys_and_refuses_digits_and_duplicates() {
        let c = Config::parse("[keypad]\ncall_staff = [\"Tab\"]\nhelp = [\"+\"]\n").unwrap();
        assert_eq!(c.keypad.key("\t"), Some(Key::CallStaff));
        assert_eq!(c.keypad.key("+"), Some(Key::Help));
        for (toml, key) in [
            ("[keypad]\ncancel = [\"7\"]\n", "keypad.cancel"),
            ("[keypad]\nrepeat = [\"-\"]\n", "keypad.repeat"),
            ("[keypad]\nenter = [\"Return\"]\n", "keypad.enter"),
            ("[keypad]\ncancel = []\n", "keypad.cancel"),
        ] {
            let e = Config::parse(toml).unwrap_err().to_string();
            assert!(e.contains(key), "{toml}: {e}");
        }
    }
}
