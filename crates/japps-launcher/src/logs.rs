//! The app's output: a bounded buffer for the logs page, a live feed for the startup
//! page, and a copy on the launcher's stdout so spawner and `kubectl logs` keep it all.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::activity::now_millis;

/// Longer lines are cut: one runaway line must not fill the buffer's memory.
const MAX_LINE_BYTES: usize = 8 * 1024;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The launcher's own messages (cloning, starting, ready, failed).
    Launcher,
    Stdout,
    Stderr,
}

/// One line of output.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// Increases by one per line, so a reconnecting reader can skip what it has.
    pub seq: u64,
    /// Milliseconds since the epoch.
    pub time: i64,
    pub source: Source,
    pub text: String,
}

/// The app's output. Shared by the process readers, the pages and the SSE feed.
#[derive(Debug)]
pub struct LogBuffer {
    state: Mutex<Ring>,
    capacity: usize,
    live: broadcast::Sender<LogLine>,
    echo: bool,
}

#[derive(Debug, Default)]
struct Ring {
    lines: VecDeque<LogLine>,
    next_seq: u64,
}

impl LogBuffer {
    /// Keeps the last `capacity` lines; with `echo`, every line is also written to stdout.
    pub fn new(capacity: usize, echo: bool) -> Self {
        let (live, _) = broadcast::channel(1024);
        Self {
            state: Mutex::new(Ring::default()),
            capacity: capacity.max(1),
            live,
            echo,
        }
    }

    /// Adds a line (trailing newline and carriage return removed, overlong lines cut).
    pub fn push(&self, source: Source, text: &str) {
        let mut text = text.trim_end_matches(['\n', '\r']).to_owned();
        if text.len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(" …");
        }
        if self.echo {
            // The app's own lines pass through unchanged; the launcher's are marked.
            let mut out = std::io::stdout().lock();
            let _ = match source {
                Source::Launcher => writeln!(out, "[japps launch] {text}"),
                _ => writeln!(out, "{text}"),
            };
            let _ = out.flush();
        }
        let line = {
            let mut ring = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let line = LogLine {
                seq: ring.next_seq,
                time: now_millis(),
                source,
                text,
            };
            ring.next_seq += 1;
            if ring.lines.len() == self.capacity {
                ring.lines.pop_front();
            }
            ring.lines.push_back(line.clone());
            line
        };
        // No receiver is fine: nobody is watching the startup page.
        let _ = self.live.send(line);
    }

    /// The kept lines, oldest first, and a receiver for the lines after them. Taken
    /// under one lock so a reader misses nothing and sees nothing twice.
    pub fn snapshot_and_follow(&self) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let ring = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (ring.lines.iter().cloned().collect(), self.live.subscribe())
    }

    /// The last `n` kept lines, oldest first.
    pub fn tail(&self, n: usize) -> Vec<LogLine> {
        let ring = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let skip = ring.lines.len().saturating_sub(n);
        ring.lines.iter().skip(skip).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_in_order() {
        let logs = LogBuffer::new(3, false);
        for i in 0..5 {
            logs.push(Source::Stdout, &format!("line {i}\n"));
        }
        let tail: Vec<String> = logs.tail(10).into_iter().map(|l| l.text).collect();
        assert_eq!(tail, ["line 2", "line 3", "line 4"]);
        assert_eq!(logs.tail(1)[0].seq, 4);
    }

    #[test]
    fn followers_see_new_lines_once() {
        let logs = LogBuffer::new(10, false);
        logs.push(Source::Launcher, "before");
        let (kept, mut live) = logs.snapshot_and_follow();
        logs.push(Source::Stderr, "after");
        assert_eq!(kept.len(), 1);
        let next = live.try_recv().unwrap();
        assert_eq!((next.text.as_str(), next.seq), ("after", 1));
        assert!(live.try_recv().is_err());
    }

    #[test]
    fn long_lines_are_cut_on_a_char_boundary() {
        let logs = LogBuffer::new(10, false);
        logs.push(Source::Stdout, &"é".repeat(MAX_LINE_BYTES));
        let line = &logs.tail(1)[0].text;
        assert!(line.len() <= MAX_LINE_BYTES + 4);
        assert!(line.ends_with(" …"));
    }
}
