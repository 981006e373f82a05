//! Stream mode (to come in this change).
use std::sync::Arc;
use kea_hooks::threads::JobQueue;
use kea_hooks::Error;
use crate::{Config, Counters, Event};
pub struct Stream { pub queue: JobQueue<Event> }
impl Stream {
    pub fn start(_config: Config, _queue_size: usize, _counters: Arc<Counters>) -> Result<Stream, Error> {
        Err(Error::msg("at 'mode': stream mode is not built yet"))
    }
    pub fn in_flight(&self) -> usize { 0 }
    pub fn pid(&self) -> Option<u32> { None }
}
