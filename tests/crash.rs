//! Crash safety, tested for real: a conversation between two persisted agents runs in a child
//! process that is killed with SIGKILL at random points, hundreds of times; each restart reopens
//! the stores. Checked: the stores always open; no message is ever returned as decrypted twice;
//! no message whose envelope left its sender is lost (it is received, or it was received and is
//! still pending in the retained events); every message sent after a reopen is read.
//!
//! Runs as its own program (`harness = false`): the parent is this binary, each child is this
//! binary again with `DMP_CRASH_CHILD` set.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dmp::{Agent, AgentConfig, Error, StorageKey};

const KILLS: usize = 200;
/// Envelopes of the wire log replayed at every start (a kill leaves at most one undelivered).
const REPLAY: usize = 6;

fn config() -> AgentConfig {
    AgentConfig { retain_events: true, ..AgentConfig::default() }
}

fn key() -> StorageKey {
    StorageKey::from_bytes([0x3C; 32])
}

/// The wire log: records `to (1) | len (u32 BE) | envelope`. A record cut by a kill is ignored,
/// and the length of the complete records before it is returned with them: the log is cut back
/// to that length before anything is appended (a kill can stop a write between two pages, and a
/// record appended after a cut one would be read as the cut one's tail).
fn read_log(path: &Path) -> (Vec<(u8, Vec<u8>)>, u64) {
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        f.read_to_end(&mut bytes).unwrap();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i + 5 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[i + 1..i + 5].try_into().unwrap()) as usize;
        if i + 5 + len > bytes.len() {
            break;
        }
        out.push((bytes[i], bytes[i + 5..i + 5 + len].to_vec()));
        i += 5 + len;
    }
    (out, i as u64)
}

/// The log's complete records, and the log opened for appending after them (a cut record is
/// dropped).
fn open_log(path: &Path) -> (Vec<(u8, Vec<u8>)>, std::fs::File) {
    let (records, complete_len) = read_log(path);
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    file.set_len(complete_len).unwrap();
    (records, file)
}

fn log_record(to: u8, env: &[u8]) -> Vec<u8> {
    let mut record = vec![to];
    record.extend_from_slice(&(env.len() as u32).to_be_bytes());
    record.extend_from_slice(env);
    record
}

/// The harness itself: a record cut by a kill must not swallow the next one appended.
fn check_cut_records_are_dropped(dir: &Path) {
    let path = dir.join("cut.log");
    let mut bytes = log_record(0, b"first");
    bytes.extend_from_slice(&log_record(1, b"cut by a kill")[..9]);
    std::fs::write(&path, &bytes).unwrap();
    let (records, mut file) = open_log(&path);
    assert_eq!(records, vec![(0, b"first".to_vec())]);
    file.write_all(&log_record(1, b"after the restart")).unwrap();
    drop(file);
    let (records, _) = read_log(&path);
    assert_eq!(records, vec![(0, b"first".to_vec()), (1, b"after the restart".to_vec())]);
}

fn child(dir: &Path, run: usize, fresh_messages: usize) {
    let out = std::io::stdout();
    let mut out = out.lock();
    let (mut a, mut b) = match (
        Agent::open_with_seed(Some(&dir.join("a.db")), key(), config(), &[1; 32]),
        Agent::open_with_seed(Some(&dir.join("b.db")), key(), config(), &[2; 32]),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            writeln!(out, "OPENFAIL {:?} {:?}", a.err(), b.err()).unwrap();
            std::process::exit(3);
        }
    };
    // Events decrypted before the last kill but perhaps never seen by the application.
    for agent in [&mut a, &mut b] {
        for ev in agent.pending_events() {
            writeln!(out, "PENDING {}", String::from_utf8_lossy(&ev.plaintext)).unwrap();
            out.flush().unwrap();
            agent.ack(ev.seq).unwrap();
        }
    }
    if a.session_state(&b.agent_id()).is_err() {
        let bundle = b.bundle(true).unwrap();
        a.add_bundle(&bundle).unwrap();
    }
    // Replay the tail of the wire: each envelope is new (never received) or a duplicate.
    let log_path = dir.join("wire.log");
    let (log, mut log_file) = open_log(&log_path);
    for (to, env) in log.iter().skip(log.len().saturating_sub(REPLAY)) {
        let receiver = if *to == 0 { &mut b } else { &mut a };
        match receiver.receive(env) {
            Ok(ev) => {
                writeln!(out, "GOT {}", String::from_utf8_lossy(&ev.plaintext)).unwrap();
                out.flush().unwrap();
                receiver.ack(ev.seq).unwrap();
            }
            Err(Error::Duplicate) => {}
            Err(e) => {
                writeln!(out, "REPLAYFAIL {e:?}").unwrap();
                std::process::exit(2);
            }
        }
    }
    for i in 0..fresh_messages {
        // Mostly A to B, sometimes back: direction changes run DH ratchet steps.
        let to_b = i % 3 != 2;
        let text = format!("r{run}-m{i}");
        let (sender, receiver) = if to_b { (&mut a, &mut b) } else { (&mut b, &mut a) };
        let env = sender.send(&receiver.agent_id(), text.as_bytes()).unwrap();
        log_file.write_all(&log_record(if to_b { 0 } else { 1 }, &env)).unwrap();
        writeln!(out, "SENT {text}").unwrap();
        out.flush().unwrap();
        let ev = match receiver.receive(&env) {
            Ok(ev) => ev,
            Err(e) => {
                writeln!(out, "RECVFAIL {e:?}").unwrap();
                std::process::exit(2);
            }
        };
        writeln!(out, "GOT {}", String::from_utf8_lossy(&ev.plaintext)).unwrap();
        out.flush().unwrap();
        receiver.ack(ev.seq).unwrap();
        if i == 0 {
            writeln!(out, "FRESH").unwrap();
            out.flush().unwrap();
        }
    }
    writeln!(out, "DONE").unwrap();
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn run_child(
    exe: &Path,
    dir: &Path,
    run: usize,
    fresh: usize,
    kill_after: Option<Duration>,
) -> (Vec<String>, bool) {
    let mut c = Command::new(exe)
        .env("DMP_CRASH_CHILD", dir)
        .env("DMP_CRASH_RUN", run.to_string())
        .env("DMP_CRASH_FRESH", fresh.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = c.stdout.take().unwrap();
    let reader =
        std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    let killed = match kill_after {
        Some(d) => {
            let start = Instant::now();
            loop {
                if c.try_wait().unwrap().is_some() {
                    break false;
                }
                if start.elapsed() >= d {
                    c.kill().unwrap(); // SIGKILL
                    break true;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        None => false,
    };
    let status = c.wait().unwrap();
    let lines = reader.join().unwrap();
    if !killed {
        assert!(
            status.success(),
            "child run {run} failed: {status:?}, last lines: {:?}",
            &lines[lines.len().saturating_sub(3)..]
        );
    }
    (lines, killed)
}

fn main() {
    if let Ok(dir) = std::env::var("DMP_CRASH_CHILD") {
        let run = std::env::var("DMP_CRASH_RUN").unwrap().parse().unwrap();
        let fresh = std::env::var("DMP_CRASH_FRESH").unwrap().parse().unwrap();
        child(&PathBuf::from(dir), run, fresh);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let dir = std::env::temp_dir().join(format!("dmp-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    check_cut_records_are_dropped(&dir);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ std::process::id() as u64);

    let mut got: HashMap<String, usize> = HashMap::new();
    let mut pending: HashMap<String, usize> = HashMap::new();
    let mut sent: Vec<String> = Vec::new();
    let (mut kills, mut fresh_ok) = (0, 0);
    let started = Instant::now();
    for run in 0..KILLS {
        // Kill anywhere from opening the stores to mid-conversation.
        let after = Duration::from_micros(rng.below(60_000));
        let (lines, killed) = run_child(&exe, &dir, run, 100, Some(after));
        kills += killed as usize;
        for l in &lines {
            if let Some(t) = l.strip_prefix("GOT ") {
                *got.entry(t.to_string()).or_default() += 1;
            } else if let Some(t) = l.strip_prefix("PENDING ") {
                *pending.entry(t.to_string()).or_default() += 1;
            } else if let Some(t) = l.strip_prefix("SENT ") {
                sent.push(t.to_string());
            } else if l == "FRESH" {
                fresh_ok += 1;
            } else if l.starts_with("OPENFAIL") || l.starts_with("REPLAYFAIL") || l.starts_with("RECVFAIL") {
                panic!("run {run}: {l}");
            }
        }
    }
    // A clean last run replays what the last kill left in flight and proves the stores work.
    let (lines, _) = run_child(&exe, &dir, KILLS, 5, None);
    assert!(lines.iter().any(|l| l == "DONE"), "final run did not finish: {lines:?}");
    for l in &lines {
        if let Some(t) = l.strip_prefix("GOT ") {
            *got.entry(t.to_string()).or_default() += 1;
        } else if let Some(t) = l.strip_prefix("PENDING ") {
            *pending.entry(t.to_string()).or_default() += 1;
        } else if let Some(t) = l.strip_prefix("SENT ") {
            sent.push(t.to_string());
        }
    }

    let mut failures = Vec::new();
    for (t, n) in &got {
        if *n > 1 {
            failures.push(format!("{t} returned as decrypted {n} times"));
        }
    }
    // Every message whose envelope reached the wire log was delivered: returned, or retained.
    let logged: Vec<String> = sent.clone();
    let mut lost = 0;
    for t in &logged {
        if !got.contains_key(t) && !pending.contains_key(t) {
            lost += 1;
            failures.push(format!("{t} was sent and never delivered"));
        }
    }
    println!(
        "crash: {KILLS} runs, {kills} killed with SIGKILL, {} messages sent, {} returned, {} recovered from retained events, {lost} lost, {fresh_ok} restarts that sent and read a fresh message, {:.1} s",
        logged.len(),
        got.len(),
        pending.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    for f in failures.iter().take(10) {
        println!("FAIL {f}");
    }
    let checks = 4;
    let failed = (!failures.is_empty()) as usize + (fresh_ok == 0) as usize + (kills == 0) as usize;
    println!("{} passed, {failed} failed", checks - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
