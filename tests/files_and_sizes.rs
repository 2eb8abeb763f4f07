//! Issue 18, items 7–14: what `-o` does to the files it meets (special files,
//! links, the input, permissions, signals), and requests too large to run
//! (permutations, simulated studies, design matrices), all through the binary.

use std::path::{Path, PathBuf};

use crate::util::tau;

const BCG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/studies/bcg.json");

/// A temporary folder holding a copy of studies/bcg.json as `data.json`.
fn folder_with_data() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.json");
    std::fs::copy(BCG, &data).unwrap();
    (dir, data)
}

/// The names in `dir` that look like tau's temporary files.
fn temporary_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tau-") && n.ends_with(".tmp"))
        .collect()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

// Item 8: `-o` naming the input destroyed the data (exit 0, records gone).
#[test]
fn output_naming_the_input_is_refused_and_the_input_kept() {
    let (dir, data) = folder_with_data();
    let before = std::fs::read(&data).unwrap();
    std::os::unix::fs::symlink("data.json", dir.path().join("link.json")).unwrap();
    std::fs::hard_link(&data, dir.path().join("hard.json")).unwrap();
    for target in ["data.json", "./data.json", "link.json", "hard.json"] {
        let output = tau()
            .current_dir(dir.path())
            .args(["pool", "data.json", "-o", target])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "-o {target}");
        assert!(
            stderr(&output).contains(&format!(
                "{target}: this is the input file; writing the report there would destroy the data"
            )),
            "-o {target}: {}",
            stderr(&output)
        );
        assert_eq!(std::fs::read(&data).unwrap(), before, "-o {target}");
    }
    // Standard input redirected from the file is the same file.
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("tau"))
        .current_dir(dir.path())
        .args(["pool", "-", "-o", "data.json"])
        .stdin(std::fs::File::open(&data).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(std::fs::read(&data).unwrap(), before);
    assert!(temporary_files(dir.path()).is_empty());
}

// Item 7: a symbolic link was replaced by a regular file.
#[test]
fn output_through_a_link_replaces_its_target_and_keeps_the_link() {
    let (dir, _data) = folder_with_data();
    let sub = dir.path().join("reports");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("real.txt"), "old").unwrap();
    std::os::unix::fs::symlink("reports/real.txt", dir.path().join("link.txt")).unwrap();
    // A dangling link: the file it names is created.
    std::os::unix::fs::symlink("reports/new.txt", dir.path().join("dangling.txt")).unwrap();
    for link in ["link.txt", "dangling.txt"] {
        tau()
            .current_dir(dir.path())
            .args(["pool", "data.json", "-o", link])
            .assert()
            .success();
        let meta = std::fs::symlink_metadata(dir.path().join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is still a link");
    }
    for real in ["real.txt", "new.txt"] {
        let text = std::fs::read_to_string(sub.join(real)).unwrap();
        assert!(text.contains("Random-effects model (k = 13"), "{real}: {text}");
    }
    assert!(temporary_files(dir.path()).is_empty());
    assert!(temporary_files(&sub).is_empty());
}

// Item 7: a named pipe was replaced by a regular file and its reader got nothing.
#[test]
fn output_to_a_named_pipe_is_written_into_the_pipe() {
    let (dir, _data) = folder_with_data();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    tau()
        .current_dir(dir.path())
        .args(["pool", "data.json", "-o", "pipe"])
        .assert()
        .success();
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the pipe is still a pipe");
    let received = reader.join().unwrap();
    assert!(received.contains("Random-effects model (k = 13"), "{received}");
    assert!(temporary_files(dir.path()).is_empty());
}

// Item 9: an overwritten 0600 file became 0644.
#[test]
fn an_overwritten_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _data) = folder_with_data();
    for mode in [0o600, 0o640, 0o444] {
        let out = dir.path().join(format!("report-{mode:o}.txt"));
        std::fs::write(&out, "old").unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(mode)).unwrap();
        tau()
            .current_dir(dir.path())
            .args(["pool", "data.json", "-o"])
            .arg(&out)
            .assert()
            .success();
        let after = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
        assert_eq!(after, mode, "{}", out.display());
        assert_ne!(std::fs::read_to_string(&out).unwrap(), "old");
    }
}

// Item 10: a process stopped while writing left `.NAME.tau-PID.tmp` behind.
#[test]
fn a_terminated_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough that writing the JSON report takes a while.
    let mut csv = String::from("study,yi,vi\n");
    for i in 0..50_000 {
        csv.push_str(&format!(
            "s{i},{},{}\n",
            (i % 17) as f64 / 10.0,
            0.01 + (i % 7) as f64 / 100.0
        ));
    }
    std::fs::write(dir.path().join("big.csv"), csv).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("tau");
    for signal in ["TERM", "INT"] {
        let mut child = std::process::Command::new(&binary)
            .current_dir(dir.path())
            .args(["pool", "big.csv", "--format", "json", "-o", "out.json"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while temporary_files(dir.path()).is_empty() {
            assert!(
                started.elapsed().as_secs() < 120,
                "no temporary file appeared"
            );
            assert!(child.try_wait().unwrap().is_none(), "tau ended too soon");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let killed = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{signal}: {status:?}");
        assert!(
            temporary_files(dir.path()).is_empty(),
            "SIG{signal}: {:?}",
            temporary_files(dir.path())
        );
        assert!(!dir.path().join("out.json").exists());
    }
}
