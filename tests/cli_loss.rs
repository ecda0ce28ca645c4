//! `apogrid loss`: the documented output on good input, and an error naming the line (with a
//! non-zero exit) on each kind of malformed input.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn apogrid(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apogrid"))
        .arg("loss")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apogrid");
    // The command may exit on a bad option before it reads stdin: a broken pipe is fine then.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str], stdin: &str) -> Value {
    let (code, stdout, stderr) = apogrid(args, stdin);
    assert_eq!(code, 0, "stderr: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Runs with bad input; asserts a non-zero exit and that stderr contains every `needle`.
fn fails(args: &[&str], stdin: &str, needles: &[&str]) {
    let (code, stdout, stderr) = apogrid(args, stdin);
    assert_ne!(code, 0, "expected failure, got stdout {stdout}");
    assert!(stdout.is_empty(), "no JSON on failure: {stdout}");
    for needle in needles {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

const PAIRS: &str = r#"{"policy_chosen_logps": -12.5, "policy_rejected_logps": -14.0, "reference_chosen_logps": -13.0, "reference_rejected_logps": -13.5}

{"policy_chosen_logps": -30.25, "policy_rejected_logps": -28.0, "reference_chosen_logps": -29.0, "reference_rejected_logps": -29.5}
"#;

#[test]
fn paired_output_is_the_documented_json() {
    let v = ok(&["--objective", "dpo", "--beta", "0.1"], PAIRS);
    let mut want_keys = vec![
        "beta",
        "chosen_rewards",
        "grad_policy_chosen_logps",
        "grad_policy_rejected_logps",
        "loss",
        "objective",
        "per_example_loss",
        "rejected_rewards",
    ];
    let mut got = keys(&v);
    got.sort();
    want_keys.sort();
    assert_eq!(got, want_keys);
    assert_eq!(v["objective"], "dpo");
    assert_eq!(v["beta"], 0.1);
    // By hand: (lw, ll) = (0.5, -0.5) and (-1.25, 1.5).
    let h = [1.0, -2.75];
    let per: Vec<f64> = h.iter().map(|h| -(sig(0.1 * h)).ln()).collect();
    let got = floats(&v["per_example_loss"]);
    for (g, w) in got.iter().zip(&per) {
        assert!((g - w).abs() < 1e-14, "{g} vs {w}");
    }
    assert!((v["loss"].as_f64().unwrap() - (per[0] + per[1]) / 2.0).abs() < 1e-14);
    assert_eq!(floats(&v["chosen_rewards"]), vec![0.1 * 0.5, 0.1 * -1.25]);
    // d/dpc_i = -β σ(-β h_i) / B, d/dpr_i = +β σ(-β h_i) / B.
    let gc = floats(&v["grad_policy_chosen_logps"]);
    let gr = floats(&v["grad_policy_rejected_logps"]);
    for i in 0..2 {
        let want = -0.1 * sig(-0.1 * h[i]) / 2.0;
        assert!((gc[i] - want).abs() < 1e-15 && (gr[i] + want).abs() < 1e-15, "{gc:?} {gr:?}");
    }
}

#[test]
fn kto_pair_lists_chosen_then_rejected_terms() {
    let v = ok(&["--objective", "kto_pair", "--beta", "0.1"], PAIRS);
    assert_eq!(floats(&v["per_example_loss"]).len(), 4);
    assert_eq!(floats(&v["grad_policy_chosen_logps"]).len(), 2);
}

#[test]
fn sft_weights_by_chosen_tokens_which_default_to_one() {
    let input = r#"{"policy_chosen_logps": -10, "policy_rejected_logps": -1, "reference_chosen_logps": -10, "reference_rejected_logps": -1, "chosen_tokens": 10}
{"policy_chosen_logps": -40, "policy_rejected_logps": -1, "reference_chosen_logps": -40, "reference_rejected_logps": -1, "chosen_tokens": 20}"#;
    let v = ok(&["--objective", "sft"], input);
    assert!((v["loss"].as_f64().unwrap() - 50.0 / 30.0).abs() < 1e-15);
    assert_eq!(floats(&v["per_example_loss"]), vec![1.0, 2.0]);
    assert_eq!(floats(&v["grad_policy_rejected_logps"]), vec![0.0, 0.0]);
    let v = ok(&["--objective", "sft"], PAIRS);
    assert!((v["loss"].as_f64().unwrap() - (12.5 + 30.25) / 2.0).abs() < 1e-14);
}

const EXAMPLES: &str = r#"{"policy_logps": -12, "reference_logps": -14, "desirable": true, "policy_kl_logps": -40, "reference_kl_logps": -43}
{"policy_logps": -20, "reference_logps": -18.5, "desirable": false, "policy_kl_logps": -22, "reference_kl_logps": -24}
"#;

#[test]
fn unpaired_output_is_the_documented_json() {
    let v = ok(&["--objective", "kto", "--beta", "0.1", "--desirable-weight", "1.5"], EXAMPLES);
    let mut got = keys(&v);
    got.sort();
    assert_eq!(got, vec!["beta", "grad_policy_logps", "kl", "loss", "objective", "per_example_loss", "rewards"]);
    // z0 = max(0, mean(3, 2)) = 2.5; l = (2, -1.5).
    assert_eq!(v["kl"], 2.5);
    let want = [1.5 * (1.0 - sig(0.1 * (2.0 - 2.5))), 1.0 - sig(0.1 * (2.5 + 1.5))];
    let per = floats(&v["per_example_loss"]);
    assert!((per[0] - want[0]).abs() < 1e-15 && (per[1] - want[1]).abs() < 1e-15, "{per:?}");
    assert_eq!(floats(&v["rewards"]).len(), 2);
    let v = ok(&["--objective", "apo_zero_unpaired"], EXAMPLES);
    assert_eq!(v["kl"], 0.0);
    // apo_zero_unpaired takes a single example and no KL fields.
    ok(&["--objective", "apo_zero_unpaired"], r#"{"policy_logps": -1, "reference_logps": -2, "desirable": false}"#);
}

#[test]
fn input_file_is_read_and_named_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pairs.jsonl");
    std::fs::write(&path, PAIRS).unwrap();
    let p = path.to_str().unwrap();
    assert_eq!(ok(&["--objective", "apo_zero", "--input", p], "")["objective"], "apo_zero");
    std::fs::write(&path, "{\"policy_chosen_logps\": 1}\n").unwrap();
    fails(&["--objective", "apo_zero", "--input", p], "", &[&format!("{p}:1:"), "missing field"]);
    fails(&["--objective", "dpo", "--input", "/nonexistent/x.jsonl"], "", &["/nonexistent/x.jsonl"]);
}

#[test]
fn malformed_paired_input_names_the_line() {
    let good = PAIRS.lines().next().unwrap();
    let dpo = ["--objective", "dpo", "--beta", "0.1"];
    fails(&dpo, &format!("{good}\n{{\"policy_chosen_logps\": -1,"), &["<stdin>:2:", "EOF"]);
    fails(&dpo, &format!("{good}\nnot json"), &["<stdin>:2:", "expected"]);
    fails(
        &dpo,
        &format!(
            "{good}\n{good}\n{{\"policy_chosen_logps\": -1, \"policy_rejected_logps\": -2, \"reference_chosen_logps\": -1}}"
        ),
        &["<stdin>:3:", "missing field `reference_rejected_logps`"],
    );
    // JSON has no NaN or infinity: an overflowing literal, a string and a bare NaN are errors.
    let inf = good.replace("-12.5", "-1e400");
    fails(&dpo, &format!("{good}\n{inf}"), &["<stdin>:2:", "number out of range"]);
    let nan = good.replace("-12.5", "\"NaN\"");
    fails(&dpo, &nan, &["<stdin>:1:", "invalid type"]);
    fails(&dpo, &good.replace("-12.5", "NaN"), &["<stdin>:1:"]);
    fails(&dpo, &good.replace("reference_rejected_logps", "reference_rejected_logp"), &["<stdin>:1:", "unknown field"]);
    let zero = good.replace("}", ", \"chosen_tokens\": 0}");
    fails(&["--objective", "sft"], &zero, &["<stdin>:1:", "chosen_tokens"]);
}

#[test]
fn empty_batches_and_small_kto_batches_are_errors() {
    fails(&["--objective", "dpo"], "", &["<stdin>", "empty batch"]);
    fails(&["--objective", "kto"], "\n  \n", &["<stdin>", "empty batch"]);
    let one = EXAMPLES.lines().next().unwrap();
    fails(&["--objective", "kto"], &format!("\n{one}\n"), &["<stdin>:2:", "at least 2"]);
    let no_kl = r#"{"policy_logps": -1, "reference_logps": -2, "desirable": true}"#;
    fails(&["--objective", "kto"], &format!("{one}\n{no_kl}"), &["<stdin>:2:", "policy_kl_logps"]);
    fails(&["--objective", "kto"], &format!("{one}\n{}", one.replace("true", "1")), &["<stdin>:2:", "invalid type"]);
}

#[test]
fn bad_options_are_errors() {
    fails(&["--objective", "dpo", "--desirable-weight", "2"], PAIRS, &["desirable-weight"]);
    fails(&["--objective", "dpo", "--beta", "0"], PAIRS, &["beta"]);
    fails(&["--objective", "ipo"], PAIRS, &["ipo"]);
    fails(&["--objective", "kto", "--undesirable-weight=-1"], EXAMPLES, &["undesirable_weight"]);
}

#[test]
fn help_documents_the_input_format() {
    let out = Command::new(env!("CARGO_BIN_EXE_apogrid")).args(["loss", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["chosen_tokens", "policy_kl_logps", "grad_policy_chosen_logps", "--desirable-weight"] {
        assert!(help.contains(needle), "--help lacks {needle}: {help}");
    }
}

/// Issue 18: inputs near f64's limits made dpo fail but apo_zero, apo_down, kto_pair and sft
/// print `null` rewards and exit 0. Now every objective either computes finite numbers or
/// refuses, naming the line.
#[test]
fn log_probs_near_the_f64_limit_fail_alike_naming_the_line() {
    let good = PAIRS.lines().next().unwrap();
    // A log-ratio of -2e308: overflows in every objective's first step.
    let huge = r#"{"policy_chosen_logps": -1e308, "policy_rejected_logps": -14, "reference_chosen_logps": 1e308, "reference_rejected_logps": -13}"#;
    // Log-ratios of +-1e308, finite, but their difference (the margin) is not.
    let margin = r#"{"policy_chosen_logps": 0, "policy_rejected_logps": -1e308, "reference_chosen_logps": -1e308, "reference_rejected_logps": 0}"#;
    for objective in ["dpo", "apo_zero", "apo_down", "kto_pair", "sft"] {
        let args = ["--objective", objective];
        fails(
            &args,
            &format!("{good}\n{huge}\n"),
            &["<stdin>:2:", "policy_chosen_logps - reference_chosen_logps", "overflows f64"],
        );
        fails(&args, &format!("{margin}\n{good}\n"), &["<stdin>:1:", "margin", "overflows f64"]);
    }
    let example = EXAMPLES.lines().next().unwrap();
    let unpaired = r#"{"policy_logps": -1e308, "reference_logps": 1e308, "desirable": true, "policy_kl_logps": -1, "reference_kl_logps": -2}"#;
    let kl = r#"{"policy_logps": -1, "reference_logps": -2, "desirable": false, "policy_kl_logps": 1e308, "reference_kl_logps": -1e308}"#;
    for objective in ["apo_zero_unpaired", "kto"] {
        let args = ["--objective", objective];
        fails(
            &args,
            &format!("{example}\n{unpaired}"),
            &["<stdin>:2:", "policy_logps - reference_logps", "overflows f64"],
        );
        fails(&args, &format!("{kl}\n{example}"), &["<stdin>:1:", "policy_kl_logps - reference_kl_logps"]);
    }
}

#[test]
fn huge_but_balanced_log_probs_give_finite_numbers_or_name_the_overflowing_sum() {
    let good = PAIRS.lines().next().unwrap();
    // Policy and reference equally huge: every log-ratio is 0, every output finite.
    let big = r#"{"policy_chosen_logps": -1e308, "policy_rejected_logps": -1.5e308, "reference_chosen_logps": -1e308, "reference_rejected_logps": -1.5e308}"#;
    for objective in ["dpo", "apo_zero", "apo_down", "kto_pair", "sft"] {
        let (code, stdout, stderr) = apogrid(&["--objective", objective], &format!("{good}\n{big}\n"));
        assert_eq!(code, 0, "{objective}: {stderr}");
        assert!(!stdout.contains("null"), "{objective}: {stdout}");
    }
    let big = r#"{"policy_logps": -1e308, "reference_logps": -1e308, "desirable": true, "policy_kl_logps": -1e308, "reference_kl_logps": -1e308}"#;
    for objective in ["apo_zero_unpaired", "kto"] {
        let v = ok(&["--objective", objective], &format!("{big}\n{}", EXAMPLES.lines().nth(1).unwrap()));
        assert!(!v.to_string().contains("null"), "{objective}: {v}");
    }
    // sft's loss sums the chosen log-probs: two terms of 1.5e308 overflow when the second is added.
    let sum = r#"{"policy_chosen_logps": -1.5e308, "policy_rejected_logps": -1, "reference_chosen_logps": -1.5e308, "reference_rejected_logps": -1}"#;
    fails(&["--objective", "sft"], &format!("{good}\n{sum}\n{sum}\n"), &["<stdin>:3:", "batch loss overflows f64"]);
}
