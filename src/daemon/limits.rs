//! Budgets and limits on the device: once the chosen project's allowance
//! (what the server said was left, less what was tracked since) is used up
//! and it stops tracking, the recorder switches tracking off and says why,
//! online or not.

impl super::Recorder {
    /// At a minute's end: stops tracking when the project's hard limit is
    /// reached.
    pub(super) async fn enforce_allowance(&mut self) {
        let work = self.work.clone();
        let now = crate::clock::Now::read().wall_ms;
        let stopped = self
            .queue
            .call(move |q| {
                let Some(a) = crate::work::allowance_now(q, &q.projects()?, &work, now)? else {
                    return Ok(None);
                };
                if !(a.hard_stop && a.remaining_secs == 0) {
                    return Ok(None);
                }
                let why = format!("tracking stopped: {} ({}) is used up", a.what, a.project);
                q.stop_for(&why)?;
                Ok(Some(why))
            })
            .await;
        match stopped {
            Ok(Some(why)) => tracing::warn!(reason = %why, "budget or limit reached"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not check the project's allowance"),
        }
    }
}
