//! Why a card-front photo gave no 照合番号B.

/// A card-front read that was rejected. Messages never contain the digits read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum OcrError {
    #[error("the image could not be read: {0}")]
    Image(String),
    #[error("the card-front fonts are missing (run scripts/setup.sh): {0}")]
    Fonts(String),
    #[error("no card found in the image")]
    CardNotFound,
    #[error("the {0} could not be read")]
    FieldUnreadable(FieldName),
    #[error("the {0} is not a real date")]
    InvalidDate(FieldName),
    #[error("the birth date lies in the future")]
    BirthInFuture,
    #[error("the expiry date is implausible for a My Number card")]
    ExpiryImplausible,
    #[error("successive photos of the card gave different numbers")]
    FramesDisagree,
    /// Another card front beside the one read: which of them is in the reader is unknown.
    #[error("more than one card front is in the image")]
    SeveralCards,
    /// A card's back (its 12-digit number) faces the camera: the photo is read no further.
    #[error("the back of a card is in the image (the card must lie face up)")]
    CardBack,
    #[error("the card-front line recogniser failed: {0}")]
    Model(String),
    #[error("image processing failed: {0}")]
    Processing(String),
}

/// The printed fields that make up 照合番号B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    BirthDate,
    Expiry,
    SecurityCode,
}

impl std::fmt::Display for FieldName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FieldName::BirthDate => "birth date",
            FieldName::Expiry => "expiry date",
            FieldName::SecurityCode => "security code",
        })
    }
}

impl From<opencv::Error> for OcrError {
    fn from(e: opencv::Error) -> Self {
        OcrError::Processing(e.to_string())
    }
}
