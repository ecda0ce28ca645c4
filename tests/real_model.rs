//! A miniature of `grids/smollm2.toml`, end to end on the CPU: SmolLM2-135M-Instruct as the
//! target, real questions as prompts, a teacher behind the project's loopback mock API as
//! reviser and judge, one epoch of APO-zero on a handful of CLAIR pairs, and the built-in MMLU
//! and HHH benchmarks (the committed fixture subsets) scoring the base model and the checkpoint.
//! It proves the real-model path from prompts to a Table 2 row. Skips, saying why, when
//! SmolLM2 has not been fetched (`scripts/get-smollm2.sh`; `.ci/run` fetches it).

use std::path::Path;
use std::process::Command;

use apogrid::api::mock::{MockRequest, MockResponse, MockServer};

const BIN: &str = env!("CARGO_BIN_EXE_apogrid");

/// Text between `start` and the next blank line.
fn field<'a>(prompt: &'a str, start: &str) -> Option<&'a str> {
    let from = prompt.find(start)? + start.len();
    let rest = &prompt[from..];
    Some(&rest[..rest.find("\n\n").unwrap_or(rest.len())])
}

/// A teacher that revises by appending a clause and always prefers the first solution.
fn teacher() -> MockServer {
    MockServer::start(|r: &MockRequest| {
        let prompt = r.prompt();
        let text = if prompt.contains("student_solution_1") {
            "The first is clearer: [1]".to_string()
        } else {
            let student = field(prompt, "student_solution}}: ").unwrap_or("an answer");
            format!(
                "{{teacher_reasoning}}: add the reason.\n{{corrected_student_solution}}: {student} That is the reason."
            )
        };
        MockResponse::chat(&text, prompt)
    })
    .expect("start the mock teacher")
}

#[test]
fn smollm2_runs_from_prompts_to_a_table_2_row() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join(apogrid::model::spec::SMOLLM2_PATH).is_file() {
        eprintln!("skipped: {} is missing; run scripts/get-smollm2.sh", apogrid::model::spec::SMOLLM2_PATH);
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let questions = [
        "What is the capital of France? Answer in one sentence.",
        "Name a mammal that can fly.",
        "What is 12 times 12?",
        "Which planet is closest to the sun?",
        "What gas do plants take in from the air?",
        "Who wrote Romeo and Juliet?",
    ];
    let prompts = dir.path().join("prompts.jsonl");
    let lines: String = questions.iter().map(|q| format!("{}\n", serde_json::json!({ "prompt": q }))).collect();
    std::fs::write(&prompts, lines).expect("prompts");
    let server = teacher();
    let fixtures = root.join("tests/fixtures/eval");
    let api = |role: &str| {
        format!(
            "[agents.{role}]\nkind = \"api\"\nbase_url = \"{}\"\nmodel = \"mock-teacher\"\napi_key_env = \"\"\n",
            server.base_url()
        )
    };
    let grid = format!(
        r#"
[grid]
name = "mini"
seed = 0
store = "{store}"
results = "{results}"
[model]
spec = "smollm2"
[prompts]
source = "file"
path = "{prompts}"
field = "prompt"
count = 6
[agents.sampling]
temperature = 0.7
max_new_tokens = 12
{reviser}{judge}
[train]
epochs = 1
learning_rate = 1e-5
batch_size = 2
micro_batch_size = 2
max_prompt_tokens = 48
max_response_tokens = 24
[eval]
benchmarks = ["mmlu", "hhh"]
heldout_pairs = 1
mmlu.path = "{mmlu}"
mmlu.count = 3
hhh.path = "{hhh}"
[[dataset]]
name = "clair"
builder = "clair"
[[objective]]
name = "apo_zero"
kind = "apo_zero"
"#,
        store = dir.path().join("store").display(),
        results = dir.path().join("results").display(),
        prompts = prompts.display(),
        reviser = api("reviser"),
        judge = api("judge"),
        mmlu = fixtures.join("mmlu.jsonl").display(),
        hhh = fixtures.join("hhh").display(),
    );
    let path = dir.path().join("mini.toml");
    std::fs::write(&path, grid).expect("grid");
    let out = Command::new(BIN).arg("run").arg(&path).arg("--quiet").current_dir(root).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let results = dir.path().join("results/mini");
    let table2 = std::fs::read_to_string(results.join("table2.csv")).expect("table2");
    let row = table2.lines().find(|l| l.starts_with("clair,apo_zero,")).unwrap_or_else(|| panic!("{table2}"));
    assert!(row.split(',').nth(2).is_some_and(|max| max.parse::<f64>().is_ok()), "a Max improvement: {row}");
    let hhh = std::fs::read_to_string(results.join("table2_hhh.csv")).expect("table2_hhh");
    assert!(hhh.lines().any(|l| l.starts_with("clair,apo_zero,")), "{hhh}");
    let epochs = std::fs::read_to_string(results.join("epochs.csv")).expect("epochs");
    assert!(epochs.lines().any(|l| l.starts_with("clair,apo_zero,0,1,score,")), "{epochs}");
    assert!(server.received() > 0, "the teacher was asked");
}
