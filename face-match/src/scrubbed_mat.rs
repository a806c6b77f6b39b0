//! OpenCV-allocated `Mat`s (decoder or capture output) are overwritten with zeros before their
//! memory is released: the workspace's `scrubbed-mat` crate, shared with card-front. Pixels that
//! must outlive the call are copied into an [`Image`](crate::frame::Image), whose buffer
//! zeroizes itself.

pub(crate) use ::scrubbed_mat::{scrub, ScrubbedMat};
