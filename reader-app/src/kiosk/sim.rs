//! SIMULATORS, clearly labelled, for the demo: the card-front camera as rendered photos of
//! the demo card's front, the patient camera as image folders, and what the demo strip picked.

use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use card_front::{Calendar, CardFrontIdentity, Sex};
use face_match::{CameraError, CameraSource, Frame, ImageFolderSource};
use opencv::core::MatTrait;

use super::camera::CameraOpener;
use crate::config::{CameraKind, Config};

/// What the demo strip picked: the next card's profile and who faces the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoChoice {
    /// The virtual card's profile (`card_sim::Profile::names()`): TEST data.
    pub profile: &'static str,
    /// The card holder (true) or an impostor (false).
    pub holder: bool,
}

impl Default for DemoChoice {
    fn default() -> Self {
        Self {
            profile: "normal",
            holder: true,
        }
    }
}

/// Shared between the demo strip and the simulators.
pub type SharedChoice = Arc<Mutex<DemoChoice>>;

/// The patient camera in the demo: image folders of the card holder and of an impostor
/// (SIMULATED), when the camera is an image folder and `[demo] impostor_folder` is set.
pub fn face_camera(config: &Config, choice: &SharedChoice) -> Option<CameraOpener> {
    let camera = config.camera.clone();
    let impostor = config.demo.impostor_folder.clone();
    if camera.source != CameraKind::Images || impostor.as_os_str().is_empty() {
        return None;
    }
    let choice = choice.clone();
    Some(Box::new(move || {
        Ok(Box::new(DemoCamera::open(
            choice.clone(),
            camera.folder.clone(),
            impostor.clone(),
        )?))
    }))
}

/// The card-front camera in the demo, unless an image folder is configured: photos of the
/// demo card's front rendered in memory (SIMULATED).
pub fn card_front_camera(config: &Config, choice: &SharedChoice) -> Option<CameraOpener> {
    if config.card_front_camera.source != CameraKind::V4l2 {
        return None;
    }
    tracing::warn!("DEMO: the card-front camera shows the demo card's rendered front");
    let choice = choice.clone();
    let fronts = Arc::new(RenderedFronts::default());
    Some(Box::new(move || {
        Ok(Box::new(DemoCardFront {
            choice: choice.clone(),
            fronts: fronts.clone(),
        }))
    }))
}

/// The current pick.
pub fn choice(shared: &SharedChoice) -> DemoChoice {
    *shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Distinct photos of each demo card front (camera-distortion seeds); frames cycle through them.
/// Twice a read's frames ([`card_front::MAX_FRAMES`]), so a re-read sees other photos.
const DEMO_FRONT_SEEDS: u64 = 2 * card_front::MAX_FRAMES as u64;

/// The card-front camera in the demo: SIMULATED by photos of the front of the demo card's
/// profile (its TEST holder printed on the canonical layout, `card_front::identity_photo`),
/// rendered in memory with seeded camera distortions, the next seed per frame. Rendering is
/// slow (~0.2 s), so each profile's [`DEMO_FRONT_SEEDS`] photos are rendered once, on first
/// use, and copied per frame. The real OCR reads them.
pub struct DemoCardFront {
    pub choice: SharedChoice,
    /// Shared, so reopening the camera moves on to the next seed and keeps the photos.
    pub fronts: Arc<RenderedFronts>,
}

/// The demo card fronts rendered so far (TEST data, in memory only) and the next frame's seed.
#[derive(Default)]
pub struct RenderedFronts {
    next_seed: AtomicU64,
    photos: Mutex<HashMap<(&'static str, u64), Frame>>,
}

impl CameraSource for DemoCardFront {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let profile = choice(&self.choice).profile;
        let unavailable = |reason: String| CameraError::Unavailable {
            origin: format!("demo card front of {profile}"),
            reason,
        };
        let seed = self.fronts.next_seed.fetch_add(1, Ordering::Relaxed) % DEMO_FRONT_SEEDS;
        let mut photos = self
            .fronts
            .photos
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let photo = match photos.entry((profile, seed)) {
            Entry::Occupied(photo) => photo.into_mut(),
            Entry::Vacant(slot) => slot.insert(render_front(profile, seed).map_err(unavailable)?),
        };
        let copy = photo.as_mat().and_then(|view| Frame::from_mat(&view));
        copy.map_err(|e| unavailable(e.to_string()))
    }
}

/// Photo `seed` of the front of `profile`'s virtual card.
fn render_front(profile: &str, seed: u64) -> Result<Frame, String> {
    let profile = card_sim::Profile::load(profile).map_err(|e| e.to_string())?;
    let identity = profile
        .holder
        .as_ref()
        .and_then(card_front_identity)
        .ok_or("the profile has no printable holder")?;
    let mut shot = card_front::identity_photo(&identity, seed).map_err(|e| e.to_string())?;
    let frame = Frame::from_mat(&shot.image).map_err(|e| e.to_string());
    // The rendered front shows 照合番号B's fields: scrub OpenCV's copy.
    let _ = shot
        .image
        .set_to(&opencv::core::Scalar::all(0.0), &opencv::core::no_array());
    frame
}

/// The card front of a virtual card's holder (TEST data): what card-front prints and reads.
/// `None` for a sex the card front cannot print (not known / not applicable).
pub fn card_front_identity(holder: &card_sim::Holder) -> Option<CardFrontIdentity> {
    let date = |d: card_sim::Date| (d.year, d.month, d.day);
    let security_code: Vec<u8> = holder
        .security_code
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    Some(CardFrontIdentity {
        birth_date: date(holder.birth_date),
        calendar: match holder.calendar {
            card_sim::Calendar::Wareki => Calendar::Wareki,
            card_sim::Calendar::Gregorian => Calendar::Gregorian,
        },
        expiry: date(holder.card_expiry),
        security_code: security_code.try_into().ok()?,
        name: holder.name.clone(),
        address: holder.address.clone(),
        sex: match holder.sex {
            1 => Sex::Male,
            2 => Sex::Female,
            _ => return None,
        },
    })
}

/// The patient camera in the demo: SIMULATED by image folders, the chosen card's holder or an
/// impostor, as the demo strip picks. A profile whose holder is someone else has its own
/// subfolder, `<folder>/<profile>/` (e.g. `holder/pin-locked/`), used when it exists.
pub struct DemoCamera {
    choice: SharedChoice,
    holder: PathBuf,
    impostor: PathBuf,
    /// The folder being shown and the pick it shows.
    shown: (DemoChoice, ImageFolderSource),
}

impl DemoCamera {
    /// The camera on the `holder` and `impostor` folders, showing the current pick.
    pub fn open(
        choice: SharedChoice,
        holder: PathBuf,
        impostor: PathBuf,
    ) -> Result<Self, CameraError> {
        let pick = self::choice(&choice);
        let source = ImageFolderSource::open(&folder_of(&holder, &impostor, pick))?;
        Ok(Self {
            choice,
            holder,
            impostor,
            shown: (pick, source),
        })
    }
}

/// The folder showing `pick`: the profile's own subfolder of the holder's or the impostor's
/// folder when there is one, else that folder.
fn folder_of(holder: &Path, impostor: &Path, pick: DemoChoice) -> PathBuf {
    let folder = if pick.holder { holder } else { impostor };
    let own = folder.join(pick.profile);
    if own.is_dir() {
        own
    } else {
        folder.to_path_buf()
    }
}

impl CameraSource for DemoCamera {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let pick = choice(&self.choice);
        if pick != self.shown.0 {
            let folder = folder_of(&self.holder, &self.impostor, pick);
            self.shown = (pick, ImageFolderSource::open(&folder)?);
        }
        self.shown.1.next_frame()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder holding one `width`×8 image.
    fn folder_with_image(path: &Path, width: i32) {
        std::fs::create_dir_all(path).unwrap();
        let image = opencv::core::Mat::new_rows_cols_with_default(
            8,
            width,
            opencv::core::CV_8UC3,
            opencv::core::Scalar::all(128.0),
        )
        .unwrap();
        let file = path.join("face.png");
        face_match::image_file::write_png(&file, &image).unwrap();
    }

    #[test]
    fn the_demo_camera_shows_the_chosen_cards_holder() {
        let dir = std::env::temp_dir().join(format!("demo-camera-{}", std::process::id()));
        let (holder, impostor) = (dir.join("holder"), dir.join("impostor"));
        folder_with_image(&holder, 10);
        folder_with_image(&holder.join("pin-locked"), 20);
        folder_with_image(&impostor, 30);
        let shared = SharedChoice::default();
        let mut camera = DemoCamera::open(shared.clone(), holder, impostor).unwrap();
        let mut width_for = |profile, holder| {
            *shared.lock().unwrap() = DemoChoice { profile, holder };
            camera.next_frame().unwrap().width()
        };
        assert_eq!(width_for("normal", true), 10);
        assert_eq!(width_for("pin-locked", true), 20, "its own holder");
        assert_eq!(width_for("pin-locked", false), 30);
        assert_eq!(width_for("face-card", true), 10, "no own folder");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_printable_profile_front_gives_the_cards_pin_b() {
        let mut printable = 0;
        for name in card_sim::Profile::names() {
            let profile = card_sim::Profile::load(name).unwrap();
            let Some(front) = profile.holder.as_ref().and_then(card_front_identity) else {
                continue;
            };
            printable += 1;
            assert_eq!(front.pin_b().as_str(), profile.pin_b, "{name}");
        }
        assert!(
            printable >= 2,
            "the normal and foreign-resident profiles print"
        );
    }
}
