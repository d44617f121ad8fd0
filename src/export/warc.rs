//! WARC 1.1 (placeholder until the raw-response API is merged).

use std::io::Write;

use super::{ExportError, Sink};
use crate::model::{Record, Sighting};
use crate::store::Store;

/// Writes WARC.
pub struct WarcSink<W> {
    out: W,
}

impl<W: Write> WarcSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, _store: Store, _all_copies: bool) -> Self {
        WarcSink { out }
    }
}

impl<W: Write> Sink<W> for WarcSink<W> {
    fn row(&mut self, _r: &Record, _s: Option<&Sighting>) -> Result<(), ExportError> {
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<W, ExportError> {
        Ok(self.out)
    }
}
