//! The qualification check by certificate serial (資格確認), against a local service: in a
//! demo the bundled simulator (`mynakiosk qual-sim`).

use crate::errors::KioskError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The service's answer for one card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualification {
    /// 資格有効
    Valid,
    /// 資格無効
    Invalid,
    /// 資格情報なし
    NoRecord,
    /// 未登録: the card is not registered for health-insurance use (→ 初回利用登録).
    Unregistered,
}

impl Qualification {
    /// The label staff and patients know.
    pub fn label(self) -> &'static str {
        match self {
            Self::Valid => "資格有効",
            Self::Invalid => "資格無効",
            Self::NoRecord => "資格情報なし",
            Self::Unregistered => "未登録",
        }
    }

    /// The catalogue error to show, if any (未登録 leads to 初回利用登録, not an error).
    pub fn error(self) -> Option<KioskError> {
        match self {
            Self::Valid | Self::Unregistered => None,
            Self::Invalid => Some(KioskError::QualificationInvalid),
            Self::NoRecord => Some(KioskError::QualificationNotFound),
        }
    }
}

/// The answer body of `GET /qualification/<serial>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualificationAnswer {
    pub serial: String,
    pub status: Qualification,
    pub label: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QualificationError {
    #[error("qualification service unreachable: {0}")]
    Unreachable(String),
    #[error("qualification service answered badly: {0}")]
    BadAnswer(String),
}

/// Asks the service at `base_url` about the card whose certificate serial is `serial` (hex).
pub fn query(
    base_url: &str,
    serial: &str,
    timeout: Duration,
) -> Result<Qualification, QualificationError> {
    let url = format!("{}/qualification/{serial}", base_url.trim_end_matches('/'));
    let mut response = super::http::agent(timeout)
        .get(&url)
        .call()
        .map_err(|e| QualificationError::Unreachable(format!("{url}: {e}")))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(QualificationError::Unreachable(format!(
            "{url}: HTTP {status}"
        )));
    }
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| QualificationError::Unreachable(format!("{url}: {e}")))?;
    let answer: QualificationAnswer = serde_json::from_str(&body)
        .map_err(|e| QualificationError::BadAnswer(format!("{url}: {e}")))?;
    if answer.serial != serial {
        return Err(QualificationError::BadAnswer(format!(
            "{url}: answer is about serial {}",
            answer.serial
        )));
    }
    Ok(answer.status)
}
