//! Issue 18, items 7–14: what `-o` does to the files it meets (special files,
//! links, the input, permissions, signals), and requests too large to run
//! (permutations, simulated studies, design matrices), all through the binary.

use std::path::{Path, PathBuf};

use crate::util::prec::close;
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
        assert!(
            text.contains("Random-effects model (k = 13"),
            "{real}: {text}"
        );
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
    assert!(
        received.contains("Random-effects model (k = 13"),
        "{received}"
    );
    assert!(temporary_files(dir.path()).is_empty());
}

// Item 7: `-o /dev/stdout` replaced the link (as root) or, with standard
// output appended to a log, replaced the log by the report.
#[test]
fn output_to_dev_stdout_goes_to_standard_output() {
    let (dir, data) = folder_with_data();
    let log = dir.path().join("log.txt");
    std::fs::write(&log, "earlier lines\n").unwrap();
    let appending = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("tau"))
        .args(["pool"])
        .arg(&data)
        .args(["-o", "/dev/stdout"])
        .stdout(appending)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("earlier lines\n"), "{text}");
    assert!(text.contains("Random-effects model (k = 13"), "{text}");
    // Through a pipe too.
    let output = tau()
        .args(["pool", BCG, "-o", "/dev/stdout"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Random-effects model (k = 13"));
    let link = std::fs::symlink_metadata("/dev/stdout").unwrap();
    assert!(link.file_type().is_symlink(), "/dev/stdout is still a link");
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
    for signal in ["TERM", "INT"] {
        // The write must still be under way when the signal comes: on a busy
        // machine a small report can be finished before the temporary file
        // is seen, so the input grows until the signal lands mid-write.
        let status = [50_000, 200_000, 800_000]
            .into_iter()
            .find_map(|rows| signal_during_write(dir.path(), signal, rows))
            .unwrap_or_else(|| panic!("SIG{signal}: tau always ended before it was signalled"));
        assert_eq!(status.code(), Some(130), "SIG{signal}: {status:?}");
        assert!(
            temporary_files(dir.path()).is_empty(),
            "SIG{signal}: {:?}",
            temporary_files(dir.path())
        );
        assert!(!dir.path().join("out.json").exists());
    }
}

/// Runs `tau pool` on `rows` studies with `-o out.json` in `dir` and sends
/// it `signal` once its temporary file exists; `None` when tau ended first.
fn signal_during_write(dir: &Path, signal: &str, rows: usize) -> Option<std::process::ExitStatus> {
    let mut csv = String::from("study,yi,vi\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "s{i},{},{}\n",
            (i % 17) as f64 / 10.0,
            0.01 + (i % 7) as f64 / 100.0
        ));
    }
    std::fs::write(dir.join("big.csv"), csv).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("tau");
    let mut child = std::process::Command::new(&binary)
        .current_dir(dir)
        .args(["pool", "big.csv", "--format", "json", "-o", "out.json"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while temporary_files(dir).is_empty() {
        assert!(
            started.elapsed().as_secs() < 120,
            "no temporary file appeared"
        );
        if child.try_wait().unwrap().is_some() {
            let _ = std::fs::remove_file(dir.join("out.json"));
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let killed = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    Some(child.wait().unwrap())
}

/// Runs `tau ARGS` in `dir` with its data segment capped at 4 GB (`ulimit -d`),
/// so that a request that tries to allocate too much fails at once, as on a
/// small machine, instead of swapping; two worker threads.
fn tau_capped(dir: &Path, args: &[&str]) -> std::process::Output {
    let binary = assert_cmd::cargo::cargo_bin("tau");
    std::process::Command::new("sh")
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "2")
        .arg("-c")
        .arg("ulimit -d 4000000 && exec \"$0\" \"$@\"")
        .arg(binary)
        .args(args)
        .output()
        .unwrap()
}

/// Five studies with a continuous moderator: 5! = 120 distinct arrangements.
fn five_studies(dir: &Path) {
    std::fs::write(
        dir.join("five.csv"),
        "study,yi,vi,x\nA,0.1,0.02,1\nB,0.3,0.03,2\nC,0.2,0.01,3\nD,0.6,0.04,4\nE,0.5,0.02,5\n",
    )
    .unwrap();
}

// Items 11 and 12: u64::MAX panicked (capacity overflow), 10¹⁰ tried to store
// every arrangement; a count below the number of arrangements ran an exact
// test of any size.
#[test]
fn permutation_counts_beyond_the_limit_are_refused_with_size_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    five_studies(dir.path());
    for n in ["18446744073709551615", "10000000000", "100000001"] {
        let output = tau_capped(
            dir.path(),
            &[
                "regress",
                "five.csv",
                "--mods",
                "x",
                "--permutations",
                n,
                "--seed",
                "1",
            ],
        );
        assert_eq!(output.status.code(), Some(2), "{n}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!(
                "error: {n} permutations are more than tau runs (at most 100000000)"
            )),
            "{n}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
    // At the limit the exact test (120 arrangements) runs.
    let output = tau_capped(
        dir.path(),
        &[
            "regress",
            "five.csv",
            "--mods",
            "x",
            "--permutations",
            "100000000",
            "--seed",
            "1",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["permutation"]["exact"], true);
    assert_eq!(json["permutation"]["iterations"], 120);
}

// Item 19: --permutations 0 exited 1, as if the analysis had failed.
#[test]
fn too_few_permutations_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    five_studies(dir.path());
    for n in ["0", "1"] {
        let output = tau_capped(
            dir.path(),
            &["regress", "five.csv", "--mods", "x", "--permutations", n],
        );
        assert_eq!(output.status.code(), Some(2), "{n}: {}", stderr(&output));
        assert!(stderr(&output).contains("must be at least 2"));
    }
}

// Item 13: `simulate --k 1e11` aborted allocating 800 GB.
#[test]
fn simulated_meta_analyses_beyond_the_size_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for k in ["100000000000", "18446744073709551615", "1000001"] {
        let output = tau_capped(
            dir.path(),
            &[
                "simulate", "--k", k, "--tau2", "0.1", "--reps", "2", "--seed", "1",
            ],
        );
        assert_eq!(
            output.status.code(),
            Some(2),
            "k = {k}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&format!(
                "k = {k} studies per meta-analysis is more than tau simulates (at most 1000000"
            )),
            "k = {k}: {}",
            stderr(&output)
        );
    }
}

/// k = 10⁵ studies of a 501-level factor: the dense model matrix would have
/// 5.01·10⁷ cells, beyond the limit, so it is held by its non-zero entries.
/// Under the common-effect model the coefficients have a closed form (the
/// inverse-variance mean of each level, and differences from the reference
/// level's), which the fit must reproduce (relative 1e-6).
#[test]
fn a_many_level_factor_beyond_the_dense_limit_is_fitted_sparsely() {
    let dir = tempfile::tempdir().unwrap();
    let levels = 501;
    let mut csv = String::from("study,yi,vi,site\n");
    let (mut sum_w, mut sum_wy) = (vec![0.0; levels], vec![0.0; levels]);
    for i in 0..100_000 {
        let (yi, vi, level) = (
            (i % 13) as f64 / 10.0 + (i % levels) as f64 / 1000.0,
            0.01 + (i % 7) as f64 / 100.0,
            i % levels,
        );
        csv.push_str(&format!("s{i},{yi},{vi},L{level:03}\n"));
        sum_w[level] += 1.0 / vi;
        sum_wy[level] += yi / vi;
    }
    std::fs::write(dir.path().join("levels.csv"), csv).unwrap();
    let output = tau_capped(
        dir.path(),
        &[
            "regress",
            "levels.csv",
            "--mods",
            "site",
            "--method",
            "EE",
            "--format",
            "csv",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), levels);
    let mean = |j: usize| sum_wy[j] / sum_w[j];
    for (j, row) in rows.iter().enumerate() {
        let (estimate, se) = if j == 0 {
            (mean(0), (1.0 / sum_w[0]).sqrt())
        } else {
            assert_eq!(row[0], format!("site=L{j:03}"));
            (mean(j) - mean(0), (1.0 / sum_w[j] + 1.0 / sum_w[0]).sqrt())
        };
        let (got_estimate, got_se): (f64, f64) = (row[1].parse().unwrap(), row[2].parse().unwrap());
        assert!(
            close(got_estimate, estimate),
            "{}: {got_estimate} vs {estimate}",
            row[0]
        );
        assert!(close(got_se, se), "{}: {got_se} vs {se}", row[0]);
    }

    // A permutation test refits a dense matrix: refused, and says so.
    let output = tau_capped(
        dir.path(),
        &[
            "regress",
            "levels.csv",
            "--mods",
            "site",
            "--permutations",
            "10",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "a permutation test refits the model on a dense model matrix, which would have 100000 studies × 501 columns = 50100000 cells (0.4 GB)"
        ) && stderr(&output).contains("drop --permutations"),
        "{}",
        stderr(&output)
    );
}

// Item 14: a 20,000-level factor at k = 10⁵ aborted allocating the 15.9 GB
// dense design. The design is now held by its non-zero entries, but the fit's
// 20,001 × 20,001 matrices would still be 3.2 GB: refused, with a remedy.
#[test]
fn a_design_beyond_the_size_limit_is_refused_before_it_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("study,yi,vi,x,site\n");
    for i in 0..100_000 {
        csv.push_str(&format!(
            "s{i},{},{},{},L{}\n",
            (i % 13) as f64 / 10.0,
            0.01 + (i % 7) as f64 / 100.0,
            (i % 11) as f64,
            i % 20_000
        ));
    }
    std::fs::write(dir.path().join("factor.csv"), csv).unwrap();
    let output = tau_capped(dir.path(), &["regress", "factor.csv", "--mods", "x,site"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "the model has 20001 coefficients, so its 20001 × 20001 matrices would have 400040001 cells (3.2 GB), more than tau handles (at most 50000000 cells, 400 MB); 'site' alone has 19999 columns: treat its levels as random effects (`--random site`), analyse them separately (`tau subgroup --by site`)"
        ),
        "{}",
        stderr(&output)
    );
}
