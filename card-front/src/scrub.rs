//! OpenCV `Mat`s that held card-front pixels (grey photo, rectified card, field crops, ink
//! masks) are overwritten with zeros before OpenCV releases their memory: the workspace's
//! `scrubbed-mat` crate, shared with face-match.

pub use scrubbed_mat::ScrubbedMat;
