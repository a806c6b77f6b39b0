//! The card's data model: applications (DFs) holding data EFs, IEFs and keys.

use std::collections::BTreeMap;
use std::fmt;

use crate::ief::Ief;
use crate::pki::SigningKey;

/// Who may use a file: READ BINARY for data EFs, `80 2A` for keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Always.
    Free,
    /// After a successful VERIFY of any of these IEFs in the current DF session.
    AnyOf(Vec<u16>),
}

#[derive(Clone)]
pub(super) enum Node {
    Binary(Vec<u8>),
    Ief(Ief),
    Key(SigningKey),
}

#[derive(Clone)]
pub(super) struct File {
    pub(super) node: Node,
    pub(super) access: Access,
    /// Holds or guards the 12-digit My Number: every touch is counted.
    pub(super) forbidden: bool,
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Node::Binary(data) => write!(f, "EF({} bytes, {:?})", data.len(), self.access),
            Node::Ief(ief) => write!(f, "{ief:?}"),
            Node::Key(_) => write!(f, "Key({:?})", self.access),
        }
    }
}

/// An application (DF) on the virtual card: data EFs, IEFs and keys by file ID.
#[derive(Debug, Clone)]
pub struct Application {
    pub(super) aid: Vec<u8>,
    pub(super) files: BTreeMap<u16, File>,
    /// Key of `80 2A 00 00` (the AP's own signature, no credential needed).
    pub(super) self_signing_key: Option<SigningKey>,
}

impl Application {
    /// An application named `aid` with no files.
    pub fn new(aid: Vec<u8>) -> Self {
        Self {
            aid,
            files: BTreeMap::new(),
            self_signing_key: None,
        }
    }

    fn with_file(mut self, fid: u16, node: Node, access: Access) -> Self {
        let file = File {
            node,
            access,
            forbidden: false,
        };
        self.files.insert(fid, file);
        self
    }

    /// Adds (or replaces) the transparent EF `fid` holding `data`, readable by anyone.
    pub fn with_binary(self, fid: u16, data: Vec<u8>) -> Self {
        self.with_file(fid, Node::Binary(data), Access::Free)
    }

    /// Adds the transparent EF `fid`, readable under `access`.
    pub fn with_protected_binary(self, fid: u16, data: Vec<u8>, access: Access) -> Self {
        self.with_file(fid, Node::Binary(data), access)
    }

    /// Adds the IEF `fid`.
    pub fn with_ief(self, fid: u16, ief: Ief) -> Self {
        self.with_file(fid, Node::Ief(ief), Access::Free)
    }

    /// Adds the private key EF `fid`, usable by `80 2A` under `access`.
    pub fn with_key(self, fid: u16, key: SigningKey, access: Access) -> Self {
        self.with_file(fid, Node::Key(key), access)
    }

    /// Sets the key that `80 2A 00 00` signs with, without credential.
    pub fn with_self_signing_key(mut self, key: SigningKey) -> Self {
        self.self_signing_key = Some(key);
        self
    }

    /// Marks `fid` as holding or guarding the My Number: selecting, verifying or reading it is
    /// counted by [`VirtualCard::forbidden_access_count`].
    pub fn forbidden(mut self, fid: u16) -> Self {
        if let Some(file) = self.files.get_mut(&fid) {
            file.forbidden = true;
        }
        self
    }
}
