//! The app's output: a bounded buffer for the logs page, a live feed for the startup
//! page, and a copy on the launcher's stdout so spawner and `kubectl logs` keep it all.
//!
//! Output is split into lines by [`LineSplitter`] with a bounded length, so that neither a
//! newline-less flood nor a `\r` progress bar makes the launcher hold more than one
//! line's worth per stream. The copy to stdout goes through a writer thread fed by a
//! bounded channel: a stdout nobody reads (a full pipe) costs dropped copies, counted and
//! reported, never a blocked reader of the app's pipes. Secrets given at construction
//! (a clone URL's credentials) are masked in every line before it is kept or written.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::activity::now_millis;

/// The longest line kept, marker included: one runaway line must not fill memory.
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// How a cut line ends.
pub const CUT_MARKER: &str = " … [line cut at 16 KiB]";
/// Lines waiting for the stdout writer; beyond this they are dropped (and counted).
const STDOUT_QUEUE: usize = 4096;

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
    echo: Option<Echo>,
    /// Masked wherever they appear, longest first.
    secrets: Vec<String>,
}

#[derive(Debug, Default)]
struct Ring {
    lines: VecDeque<LogLine>,
    next_seq: u64,
}

/// The copy of every line on stdout, written by a thread of its own.
#[derive(Debug)]
struct Echo {
    queue: mpsc::Sender<EchoMessage>,
    /// Lines not copied since the last report.
    dropped: AtomicU64,
}

#[derive(Debug)]
enum EchoMessage {
    Line(String),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

impl LogBuffer {
    /// Keeps the last `capacity` lines; with `echo`, every line is also written to stdout.
    pub fn new(capacity: usize, echo: bool) -> Self {
        let (live, _) = broadcast::channel(1024);
        Self {
            state: Mutex::new(Ring::default()),
            capacity: capacity.max(1),
            live,
            echo: echo.then(|| Echo::start(std::io::stdout())).flatten(),
            secrets: Vec::new(),
        }
    }

    /// Masks `secrets` (e.g. from `japps_domain::git::url_secrets`) in every line.
    #[must_use]
    pub fn with_secrets(mut self, mut secrets: Vec<String>) -> Self {
        secrets.retain(|secret| !secret.is_empty());
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        self.secrets = secrets;
        self
    }

    /// `text` with the secrets masked, for messages that leave through another way
    /// (the failure reason on the startup page).
    pub fn redact(&self, text: &str) -> String {
        japps_domain::git::mask_secrets(text, &self.secrets)
    }

    /// Adds a line (trailing newline and carriage return removed, overlong lines cut).
    pub fn push(&self, source: Source, text: &str) {
        let text = self.redact(text.trim_end_matches(['\n', '\r']));
        let text = self.mask_cut_secret(cut(text));
        if let Some(echo) = &self.echo {
            // The app's own lines pass through unchanged; the launcher's are marked.
            echo.send(match source {
                Source::Launcher => format!("[japps launch] {text}"),
                _ => text.clone(),
            });
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

    /// Waits (at most `timeout`) until the lines queued for stdout are written: the
    /// launcher's last words must reach the spawner's log before it exits.
    pub async fn flush_stdout(&self, timeout: Duration) {
        let Some(echo) = &self.echo else { return };
        let _ = tokio::time::timeout(timeout, async {
            let (done, written) = oneshot::channel();
            if echo.queue.send(EchoMessage::Flush(done)).await.is_ok() {
                let _ = written.await;
            }
        })
        .await;
    }

    /// A line cut in the middle of a secret would show its beginning; mask that too.
    fn mask_cut_secret(&self, text: String) -> String {
        let Some(body) = text.strip_suffix(CUT_MARKER) else {
            return text;
        };
        for secret in &self.secrets {
            let partial = (1..secret.len())
                .rev()
                .filter(|end| secret.is_char_boundary(*end))
                .find(|end| body.ends_with(&secret[..*end]));
            if let Some(end) = partial {
                let kept = &body[..body.len() - end];
                return format!("{kept}{}{CUT_MARKER}", japps_domain::git::MASK);
            }
        }
        text
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

impl Echo {
    /// Starts the writer thread; `None` (no copy) if no thread can be made.
    fn start(mut out: impl Write + Send + 'static) -> Option<Self> {
        let (queue, mut pending) = mpsc::channel(STDOUT_QUEUE);
        std::thread::Builder::new()
            .name("japps-stdout".into())
            .spawn(move || {
                while let Some(message) = pending.blocking_recv() {
                    match message {
                        EchoMessage::Line(text) => {
                            let _ = writeln!(out, "{text}");
                        }
                        EchoMessage::Flush(done) => {
                            let _ = out.flush();
                            let _ = done.send(());
                        }
                    }
                }
            })
            .ok()?;
        Some(Self {
            queue,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues a line without waiting; a full queue drops it (and counts it), and the
    /// count is reported once there is room again.
    fn send(&self, text: String) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let note = format!(
                "[japps launch] {dropped} lines of output were not copied here (stdout did not keep up); the logs page has the latest"
            );
            if self.queue.try_send(EchoMessage::Line(note)).is_err() {
                self.dropped.fetch_add(dropped + 1, Ordering::Relaxed);
                return;
            }
        }
        if self.queue.try_send(EchoMessage::Line(text)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `text` cut to [`MAX_LINE_BYTES`] (marker included) on a character boundary.
fn cut(mut text: String) -> String {
    if text.len() <= MAX_LINE_BYTES {
        return text;
    }
    let mut end = MAX_LINE_BYTES - CUT_MARKER.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CUT_MARKER);
    text
}

/// Splits a byte stream into lines of at most [`MAX_LINE_BYTES`]. `\n`, `\r\n` and a bare
/// `\r` end a line; the part of a longer line beyond the limit is dropped (the kept part
/// ends with [`CUT_MARKER`] and is given out as soon as the limit is reached, so a line
/// that never ends still shows). A bare `\r` is how progress bars redraw themselves: a
/// redraw is a line once the next one begins; of the redraws completed by one read only the
/// last is kept, and the empty one a bar starts with is not kept at all. So a bar shows
/// on the startup page, one redraw behind, and a fast one costs a line per read, not per
/// redraw.
#[derive(Debug, Default)]
pub struct LineSplitter {
    current: Vec<u8>,
    /// The current line was already given out cut; the rest of it is dropped.
    skipping: bool,
    /// The previous chunk ended with `\r`: a `\n` starting this one belongs to it.
    after_cr: bool,
}

impl LineSplitter {
    /// The lines completed by `chunk`, appended to `lines`.
    pub fn feed(&mut self, chunk: &[u8], lines: &mut Vec<String>) {
        let mut rest = chunk;
        if std::mem::take(&mut self.after_cr) && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        // Whether the last line given out by this call was a redraw (ended by a bare \r).
        let mut redraw = false;
        while let Some(end) = rest.iter().position(|byte| matches!(byte, b'\n' | b'\r')) {
            self.append(&rest[..end], lines, &mut redraw);
            let bare_cr = rest[end] == b'\r' && rest.get(end + 1) != Some(&b'\n');
            let skip = if rest[end] == b'\r' && !bare_cr { 2 } else { 1 };
            if rest[end] == b'\r' && end + 1 == rest.len() {
                self.after_cr = true;
            }
            rest = &rest[end + skip..];
            let line = std::mem::take(&mut self.current);
            if std::mem::take(&mut self.skipping) {
                continue;
            }
            if bare_cr && line.is_empty() {
                continue;
            }
            if redraw {
                lines.pop();
            }
            lines.push(String::from_utf8_lossy(&line).into_owned());
            redraw = bare_cr;
        }
        self.append(rest, lines, &mut redraw);
    }

    /// What is left when the stream ends: a last line without a line end.
    pub fn finish(self) -> Option<String> {
        (!self.skipping && !self.current.is_empty())
            .then(|| String::from_utf8_lossy(&self.current).into_owned())
    }

    /// Adds bytes of the current line, giving it out cut when it reaches the limit.
    fn append(&mut self, bytes: &[u8], lines: &mut Vec<String>, redraw: &mut bool) {
        if self.skipping || bytes.is_empty() {
            return;
        }
        let room = MAX_LINE_BYTES - CUT_MARKER.len() - self.current.len();
        if bytes.len() <= room {
            self.current.extend_from_slice(bytes);
            return;
        }
        self.current.extend_from_slice(&bytes[..room]);
        let kept = std::mem::take(&mut self.current);
        // A character split by the cut is left out rather than shown as U+FFFD.
        let valid = match std::str::from_utf8(&kept) {
            Ok(_) => kept.len(),
            Err(err) if err.error_len().is_none() => err.valid_up_to(),
            Err(_) => kept.len(),
        };
        let mut text = String::from_utf8_lossy(&kept[..valid]).into_owned();
        text.push_str(CUT_MARKER);
        if std::mem::take(redraw) {
            lines.pop();
        }
        lines.push(text);
        self.skipping = true;
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
        assert!(line.len() <= MAX_LINE_BYTES);
        assert!(line.ends_with(CUT_MARKER));
    }

    /// The lines `chunks` give, read one after the other.
    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.feed(chunk, &mut lines);
        }
        lines.extend(splitter.finish());
        lines
    }

    #[test]
    fn lines_end_with_newlines_and_carriage_returns() {
        assert_eq!(split(&[b"a\nb\r\nc\n\nd"]), ["a", "b", "c", "", "d"]);
        // A CRLF split between two reads is one line end.
        assert_eq!(split(&[b"a\r", b"\nb\n"]), ["a", "b"]);
        assert_eq!(split(&[b"a", b"b\n", b"c"]), ["ab", "c"]);
        assert_eq!(split(&[b"\xffok\n"]), ["\u{fffd}ok"]);
        assert!(split(&[b""]).is_empty());
    }

    #[test]
    fn progress_bars_show_their_latest_state() {
        // tqdm's way: each redraw starts with \r, the last one ends with \n.
        assert_eq!(
            split(&[b"\r  0%|   |\r 50%|#  |\r100%|###|\ndone\n"]),
            ["100%|###|", "done"]
        );
        // A redraw is complete when the next one begins; of those completed by one read,
        // the last shows (the startup page follows the bar, one redraw behind).
        assert_eq!(
            split(&[b"\r 10%", b"\r 20%", b"\r 30%\n"]),
            [" 10%", " 30%"]
        );
        // A bar that never ends its line still shows.
        assert_eq!(split(&[b"step 1\rstep 2\rstep 3\r"]), ["step 3"]);
    }

    #[test]
    fn overlong_lines_are_cut_and_the_rest_dropped() {
        let long = vec![b'x'; 3 * MAX_LINE_BYTES];
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        // Given out as soon as the limit is reached, before the line ends.
        splitter.feed(&long[..MAX_LINE_BYTES], &mut lines);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].len() <= MAX_LINE_BYTES && lines[0].ends_with(CUT_MARKER));
        for piece in long[MAX_LINE_BYTES..].chunks(1000) {
            splitter.feed(piece, &mut lines);
        }
        assert_eq!(lines.len(), 1, "the rest of the line is dropped");
        assert!(splitter.current.is_empty(), "nothing is held");
        splitter.feed(b"\rnext\n", &mut lines);
        assert_eq!(lines[1], "next");
        // A character cut by the limit is left out.
        let lines = split(&["é".repeat(MAX_LINE_BYTES).as_bytes()]);
        assert_eq!(lines.len(), 1);
        assert!(
            !lines[0].contains('\u{fffd}'),
            "{}",
            &lines[0][lines[0].len() - 40..]
        );
    }

    #[test]
    fn secrets_are_masked_even_in_cut_lines() {
        let logs = LogBuffer::new(10, false).with_secrets(japps_domain::git::url_secrets(
            "https://user:s3cr3t-token@host/x.git",
        ));
        logs.push(
            Source::Stderr,
            "fatal: could not read from https://user:s3cr3t-token@host/x.git",
        );
        assert_eq!(
            logs.tail(1)[0].text,
            "fatal: could not read from https://***:***@host/x.git"
        );
        let mut cut_in_the_secret = "a".repeat(MAX_LINE_BYTES - CUT_MARKER.len() - 4);
        cut_in_the_secret.push_str("s3cr");
        cut_in_the_secret.push_str(CUT_MARKER);
        logs.push(Source::Stdout, &cut_in_the_secret);
        let text = &logs.tail(1)[0].text;
        assert!(
            text.ends_with(&format!("a***{CUT_MARKER}")),
            "{}",
            &text[text.len() - 40..]
        );
        assert_eq!(logs.redact("reason: s3cr3t-token"), "reason: ***");
    }

    /// A stdout nobody reads.
    struct Stuck(std::sync::mpsc::Receiver<()>);

    impl Write for Stuck {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Err(std::io::Error::other("closed"))
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_stdout_drops_copies_instead_of_blocking() {
        let (release, stuck) = std::sync::mpsc::channel();
        let mut logs = LogBuffer::new(10, false);
        logs.echo = Echo::start(Stuck(stuck));
        let started = std::time::Instant::now();
        for i in 0..(STDOUT_QUEUE + 100) {
            logs.push(Source::Stdout, &format!("line {i}"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "push never waits"
        );
        let dropped = logs.echo.as_ref().unwrap().dropped.load(Ordering::Relaxed);
        assert!(dropped >= 99, "{dropped} dropped");
        assert_eq!(logs.tail(1)[0].text, format!("line {}", STDOUT_QUEUE + 99));
        drop(release);
    }

    #[tokio::test]
    async fn stdout_copies_are_written_in_order_and_flushed() {
        use std::sync::Arc;

        #[derive(Clone, Default)]
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Shared::default();
        let mut logs = LogBuffer::new(10, false);
        logs.echo = Echo::start(out.clone());
        logs.push(Source::Launcher, "cloning");
        logs.push(Source::Stdout, "app line\r\n");
        logs.flush_stdout(Duration::from_secs(5)).await;
        let written = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(written, "[japps launch] cloning\napp line\n");
    }
}
