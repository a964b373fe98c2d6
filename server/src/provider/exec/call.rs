//! One call of an `exec` provider: run `command… VERB`, write one JSON request on its standard
//! input, read one JSON answer from its standard output. Exit 0 is an answer; 75 (EX_TEMPFAIL)
//! is "try again later"; anything else is a refusal, explained by the end of standard error. A
//! call past its timeout is killed with everything it started (its process group) and counts
//! as transient: the next call may well be quicker.

use crate::provider::ProviderError;
use crate::settings::ExecSettings;
use serde_json::Value;
use std::process::{ExitStatus, Stdio};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// The exit status that means "try again later" (sysexits.h).
pub const EX_TEMPFAIL: i32 = 75;

/// The most of standard error kept for a message: its end, where the reason usually is.
const STDERR_TAIL: usize = 4096;

/// The largest answer read (an `observe` of a few hundred clusters is well under this).
const MAX_ANSWER: usize = 32 << 20;

/// Runs `verb` with `request` and returns the answer, or why there is none.
pub async fn call(
    settings: &ExecSettings,
    verb: &str,
    request: &Value,
) -> Result<Value, ProviderError> {
    let mut command = tokio::process::Command::new(&settings.command[0]);
    command
        .args(&settings.command[1..])
        .arg(verb)
        .envs(&settings.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own process group, so a timeout kills what it started too (an `aws` it runs).
        .process_group(0);
    for (var, source) in &settings.secrets {
        let value = source
            .read()
            .map_err(|why| ProviderError::permanent(format!("secret {var}: {why}")))?;
        command.env(var, value);
    }
    let mut child = command.spawn().map_err(|e| {
        ProviderError::permanent(format!("could not run {}: {e}", settings.command[0]))
    })?;
    let group = child.id();
    let body = serde_json::to_vec(request).unwrap_or_default();
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let outcome = tokio::time::timeout(settings.timeout, async {
        let write = async move {
            if let Some(mut stdin) = stdin {
                // A command that does not read its request may close the pipe: not an error.
                let _ = stdin.write_all(&body).await;
            }
        };
        let (_, out, err) = tokio::join!(write, read_all(stdout), read_tail(stderr));
        (child.wait().await, out, err)
    })
    .await;
    let Ok((status, out, err)) = outcome else {
        kill_group(group);
        let _ = child.kill().await;
        return Err(ProviderError::transient(format!(
            "the provider's {verb} call took longer than {} s and was stopped",
            settings.timeout.as_secs()
        )));
    };
    // The command is done; anything it left running in its group goes too.
    kill_group(group);
    let status = status.map_err(|e| {
        ProviderError::transient(format!(
            "waiting for the provider's {verb} call failed: {e}"
        ))
    })?;
    judge_exit(verb, status, &out?, &err)
}

/// What the end of a call means.
fn judge_exit(
    verb: &str,
    status: ExitStatus,
    out: &[u8],
    err: &str,
) -> Result<Value, ProviderError> {
    let said = |fallback: String| {
        if err.is_empty() {
            fallback
        } else {
            err.to_owned()
        }
    };
    match status.code() {
        Some(0) => serde_json::from_slice(out).map_err(|e| {
            let start = String::from_utf8_lossy(&out[..out.len().min(120)]).into_owned();
            ProviderError::permanent(format!(
                "the provider's {verb} answer is not JSON ({e}); it began: {start:?}"
            ))
        }),
        Some(EX_TEMPFAIL) => Err(ProviderError::transient(said(format!(
            "the provider's {verb} call asked to be tried again later (exit status 75)"
        )))),
        Some(code) => Err(ProviderError::permanent(format!(
            "the provider's {verb} call failed (exit status {code}): {}",
            said("it wrote nothing on standard error".into())
        ))),
        None => Err(ProviderError::permanent(format!(
            "the provider's {verb} call was killed by a signal: {}",
            said("it wrote nothing on standard error".into())
        ))),
    }
}

fn kill_group(group: Option<u32>) {
    if let Some(pid) = group.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches no memory.
        // The group is the child's own (process_group(0)), so nothing else is signalled.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> Result<Vec<u8>, ProviderError> {
    let mut out = Vec::new();
    if let Some(pipe) = pipe {
        pipe.take(MAX_ANSWER as u64 + 1)
            .read_to_end(&mut out)
            .await
            .map_err(|e| ProviderError::transient(format!("reading the provider's answer: {e}")))?;
    }
    if out.len() > MAX_ANSWER {
        return Err(ProviderError::permanent(format!(
            "the provider's answer is larger than {} MiB",
            MAX_ANSWER >> 20
        )));
    }
    Ok(out)
}

/// The end of standard error, at most `STDERR_TAIL` bytes, trimmed.
async fn read_tail(pipe: Option<impl AsyncRead + Unpin>) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };
    let mut tail: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&buffer[..n]);
        if tail.len() > STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
    }
    String::from_utf8_lossy(&tail).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A provider whose command is the shell script `script` (the verb is `$1`).
    fn shell(script: &str, timeout: u64) -> ExecSettings {
        ExecSettings {
            name: "t".into(),
            command: vec!["sh".into(), "-c".into(), script.into(), "sh".into()],
            timeout: Duration::from_secs(timeout),
            max_parallel: 1,
            max_batch: 10,
            poll_interval: Duration::from_secs(1),
            observation_ttl: Duration::ZERO,
            catalog_ttl: Duration::ZERO,
            attempt_timeout: Duration::from_secs(60),
            backoff_cap: Duration::from_secs(1),
            env: [("GREETING".to_owned(), "hello".to_owned())].into(),
            secrets: Default::default(),
        }
    }

    #[tokio::test]
    async fn the_request_goes_in_and_the_answer_comes_out() {
        let echo = shell(
            r#"read -r line; printf '{"verb":"%s","env":"%s","got":%s}' "$1" "$GREETING" "$line""#,
            5,
        );
        let answer = call(&echo, "list", &serde_json::json!({"a": 1}))
            .await
            .unwrap();
        assert_eq!(answer["verb"], "list");
        assert_eq!(answer["env"], "hello");
        assert_eq!(answer["got"]["a"], 1);
    }

    #[tokio::test]
    async fn exit_statuses_say_what_kind_of_failure_it_was() {
        let request = serde_json::json!({});
        let later = call(
            &shell("echo 'rate exceeded' >&2; exit 75", 5),
            "observe",
            &request,
        )
        .await;
        assert_eq!(later, Err(ProviderError::transient("rate exceeded")));
        let refused = call(
            &shell("echo 'line 1' >&2; echo 'AccessDenied' >&2; exit 3", 5),
            "observe",
            &request,
        )
        .await
        .unwrap_err();
        assert!(!refused.is_transient());
        let text = refused.to_string();
        assert!(
            text.contains("observe call failed (exit status 3)")
                && text.ends_with("line 1\nAccessDenied"),
            "{text}"
        );
        let garbled = call(&shell("echo 'not json'", 5), "catalog", &request)
            .await
            .unwrap_err();
        assert!(
            garbled.to_string().contains("catalog answer is not JSON"),
            "{garbled}"
        );
        let missing = call(
            &ExecSettings {
                command: vec!["/no/such/provider".into()],
                ..shell("", 5)
            },
            "list",
            &request,
        )
        .await
        .unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("could not run /no/such/provider"),
            "{missing}"
        );
    }

    #[tokio::test]
    async fn only_the_end_of_a_long_standard_error_is_kept() {
        let noisy = shell(
            "i=0; while [ $i -lt 2000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; exit 1",
            5,
        );
        let text = call(&noisy, "list", &serde_json::json!({}))
            .await
            .unwrap_err()
            .to_string();
        assert!(text.ends_with("line 1999"), "{text}");
        assert!(text.len() < STDERR_TAIL + 200, "{}", text.len());
    }

    #[tokio::test]
    async fn a_call_past_its_timeout_is_stopped_with_what_it_started() {
        let dir = crate::test_support::ScratchDir::new("exec");
        let pid_file = dir.join("pid");
        let slow = shell(
            &format!("sleep 30 & echo $! > {}; wait", pid_file.display()),
            1,
        );
        let started = Instant::now();
        let error = call(&slow, "observe", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(error.is_transient(), "{error}");
        assert!(
            error.to_string().contains("took longer than 1 s"),
            "{error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "it did not wait for the sleep"
        );
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true);
        assert!(!alive || zombie, "the command's own child was stopped too");
    }
}
