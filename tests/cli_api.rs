//! Datasets built through LLMs behind an OpenAI-compatible API (issue 7), against loopback
//! servers ([`apogrid::api::mock`]) that answer with well-formed revisions and verdicts,
//! malformed replies, 429s with `Retry-After`, 500s and slow replies. The `apogrid` binary runs
//! as a child process with the key in its environment; the servers count what they receive.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apogrid::api::mock::{MockRequest, MockResponse, MockServer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_apogrid");
const KEY_VAR: &str = "APOGRID_TEST_API_KEY";

/// The prompt number `i` of `question {i}: ...` anywhere in a request's prompt.
fn question(prompt: &str) -> usize {
    let at = prompt.find("question ").expect("a test prompt") + "question ".len();
    prompt[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("a number")
}

/// Text between `start` and the next blank line or separator.
fn field<'a>(prompt: &'a str, start: &str) -> &'a str {
    let from = prompt.find(start).expect("field") + start.len();
    let rest = &prompt[from..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    &rest[..end]
}

/// The target model: `answer {i} (seed)`, 0-temperature greedy answers tagged as such.
fn target_server() -> MockServer {
    MockServer::start(|r: &MockRequest| {
        let i = question(r.prompt());
        let text = match r.body["seed"].as_u64() {
            Some(seed) => format!("answer {i} drawn with seed {}", seed % 1000),
            None => format!("answer {i} greedy at temperature {}", r.body["temperature"]),
        };
        MockResponse::chat(&text, r.prompt())
    })
    .expect("start the target server")
}

/// Tries per prompt text, for replies that change between tries.
type Tries = Mutex<HashMap<String, usize>>;

/// The teacher (reviser, judge, stronger model), misbehaving by question number:
/// `i % 10 == 3` malformed reply (no revision marker; neither verdict); `== 5` 429 with
/// `Retry-After: 1` on the first try; `== 7` 500 on the first two tries; `== 9` slower than the
/// client's timeout on the first try; `i == 11` 500 on every try. Well-formed revisions echo the
/// identifiers as the prompt writes them (single braces), as Table 6 printed them (double
/// braces), or as bold headings, by `i % 3`; verdicts for the first solution quote the
/// instruction's "[1] or [2]" and weigh `[2]` before the verdict `[1]` for odd `i`.
fn teacher_server() -> MockServer {
    let tries = Tries::default();
    MockServer::start(move |r: &MockRequest| {
        let prompt = r.prompt().to_string();
        let i = question(&prompt);
        let n = {
            let mut t = tries.lock().unwrap();
            let n = t.entry(prompt.clone()).or_default();
            *n += 1;
            *n
        };
        match (i % 10, n) {
            _ if i == 11 => return MockResponse::error(500),
            (5, 1) => return MockResponse::error(429).with_header("Retry-After", "1"),
            (7, 1 | 2) => return MockResponse::error(500),
            (9, 1) => return MockResponse::chat("too late", &prompt).with_delay(Duration::from_millis(2500)),
            _ => {}
        }
        let malformed = i % 10 == 3;
        let text = if prompt.contains("{student_solution_1}: ") {
            let (a, b) = (field(&prompt, "{student_solution_1}: "), field(&prompt, "{student_solution_2}: "));
            if malformed {
                "Both are fine.".to_string()
            } else if a >= b && i % 2 == 1 {
                "I must answer [1] or [2]. [2] reads well, but the first is better: [1]".into()
            } else if a >= b {
                "First is better: [1]".into()
            } else {
                "[2]".into()
            }
        } else if prompt.contains("{student_solution}: ") {
            let student = field(&prompt, "{student_solution}: ");
            match (malformed, i % 3) {
                (true, _) => format!("I would say: {student}, improved."),
                (false, 0) => {
                    format!("{{teacher_reasoning}}: clearer.\n{{corrected_student_solution}}: {student}, revised")
                }
                (false, 1) => {
                    format!(
                        "{{{{teacher_reasoning}}}}: clearer.\n{{{{corrected_student_solution}}}}: {student}, revised"
                    )
                }
                _ => format!("**Teacher Reasoning:** clearer.\n\n**Corrected Student Solution:**\n{student}, revised"),
            }
        } else {
            format!("the strong answer to question {i}")
        };
        MockResponse::chat(&text, &prompt)
    })
    .expect("start the teacher server")
}

fn api_table(role: &str, url: &str, extra: &str) -> String {
    format!(
        "[agents.{role}]\nkind = \"api\"\nbase_url = \"{url}\"\nmodel = \"mock-{role}\"\napi_key_env = \"{KEY_VAR}\"\n\
         timeout_s = 1\nmax_retries = 3\nbackoff_ms = 5\nconcurrency = 8\n{extra}\n"
    )
}

/// A grid of `n` file prompts, the target served by `target`, and `agents` tables. `ratio` is
/// every dataset's `max_length_ratio`: it changes the datasets' keys, not their requests.
fn grid(dir: &Path, n: usize, ratio: f64, target: &str, agents: &str, datasets: &[&str]) -> PathBuf {
    // Each line also carries three other models' completions (UltraFeedback's layout), for
    // `[agents.off_policy] kind = "file"`.
    let prompts: String = (0..n)
        .map(|i| {
            format!(
                "{{\"prompt\": \"question {i}: name a colour\", \"completions\": [\"blue {i}\", \
                 {{\"model\": \"m1\", \"response\": \"red {i}\"}}, {{\"model\": \"m2\", \"response\": \"green {i}\"}}]}}\n"
            )
        })
        .collect();
    std::fs::write(dir.join("prompts.jsonl"), prompts).unwrap();
    let datasets: String = datasets
        .iter()
        .map(|d| format!("[[dataset]]\nname = \"{d}\"\nbuilder = \"{d}\"\nmax_length_ratio = {ratio:?}\n"))
        .collect();
    let text = format!(
        "[grid]\nname = \"api\"\nseed = 5\nstore = \"{store}\"\nresults = \"{results}\"\n[model]\nspec = \"tiny\"\n\
         [prompts]\nsource = \"file\"\npath = \"{prompts}\"\ncount = {n}\n[eval]\nheldout_pairs = 2\n\
         {target}{agents}{datasets}[[objective]]\nname = \"dpo\"\nkind = \"dpo\"\n",
        store = dir.join("store").display(),
        results = dir.join("results").display(),
        prompts = dir.join("prompts.jsonl").display(),
        target = api_table("target", target, ""),
    );
    let path = dir.join("grid.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(grid: &Path, key: Option<&str>) -> Output {
    run_with(grid, key, &["--quiet"])
}

fn run_with(grid: &Path, key: Option<&str>, extra: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--only", "datasets"]).args(extra).arg(grid).env_remove(KEY_VAR);
    if let Some(k) = key {
        cmd.env(KEY_VAR, k);
    }
    cmd.output().expect("run apogrid")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `task id -> artifact folder` of every finished task in a store.
fn finished(store: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(store).unwrap().flatten() {
        let Ok(text) = std::fs::read_to_string(e.path().join("task.json")) else { continue };
        let v: Value = serde_json::from_str(&text).unwrap();
        out.insert(v["id"].as_str().unwrap().to_string(), e.path());
    }
    out
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn pairs(dir: &Path) -> Vec<Value> {
    ["train.jsonl", "heldout.jsonl"]
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(dir.join(f))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                let bytes = std::fs::read(&p).unwrap();
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(p);
                }
            }
        }
    }
    assert!(files > 10, "expected a populated folder under {}", dir.display());
    hits
}

#[test]
fn api_datasets_count_rejections_and_retries_cache_replies_and_never_store_the_key() {
    let (target, teacher) = (target_server(), teacher_server());
    let dir = tempfile::tempdir().unwrap();
    let n = 24;
    let agents = [
        api_table("reviser", &teacher.base_url(), ""),
        api_table("judge", &teacher.base_url(), ""),
        api_table("stronger", &teacher.base_url(), ""),
    ]
    .concat();
    let datasets = ["clair", "judge_on_policy", "stronger_preferred"];
    let g = grid(dir.path(), n, 2.0, &target.base_url(), &agents, &datasets);
    let key = "sk-test-7f3a9c1e-do-not-leak";
    let out = run(&g, Some(key));
    assert!(out.status.success(), "{}", stderr(&out));

    // The target: greedy (temperature 0) and two seeded samples per prompt.
    assert_eq!(target.received(), 3 * n);
    assert_eq!(
        target.requests().iter().filter(|r| r.body["temperature"] == 0.0 && r.body.get("seed").is_none()).count(),
        n
    );
    // The key travels in the Authorization header, to every request.
    assert!(teacher.requests().iter().all(|r| r.header("authorization") == Some(&format!("Bearer {key}"))));
    // The paper's reviser prompt as the authors' code sends it: the instruction as the system
    // message, the task and the student's answer in the user message, single braces.
    let revise = teacher.requests().into_iter().find(|r| r.prompt().contains("{student_solution}: ")).unwrap();
    let messages = revise.body["messages"].as_array().unwrap();
    assert_eq!((messages.len(), &messages[0]["role"], &messages[1]["role"]), (2, &"system".into(), &"user".into()));
    assert!(messages[0]["content"].as_str().unwrap().starts_with(
        "You are a teacher and your task is to minimally improve a student's answer. I will give you a {task} and a {student_solution}."
    ));
    assert!(revise.prompt().starts_with("{task}: question "), "{}", revise.prompt());
    assert!(teacher.requests().iter().all(|r| !r.prompt().contains("{{")));

    let tasks = finished(&dir.path().join("store"));
    let clair = &tasks["dataset/clair"];
    let malformed: Vec<usize> = (0..n).filter(|i| i % 10 == 3).collect();
    // CLAIR: every kept pair is the target's sample and its revision, whichever way the reply
    // marked it (no stray braces); malformed replies are format rejections; question 11 failed
    // for good (500 on every try).
    let kept = pairs(clair);
    assert_eq!(kept.len(), n - malformed.len() - 1);
    for p in &kept {
        let rejected = p["rejected"].as_str().unwrap();
        assert!(rejected.starts_with(&format!("answer {} drawn with seed", question(p["prompt"].as_str().unwrap()))));
        assert_eq!(p["chosen"].as_str().unwrap(), format!("{rejected}, revised"));
    }
    assert!(kept.iter().all(|p| question(p["prompt"].as_str().unwrap()) != 11));
    let manifest = read_json(&clair.join("manifest.json"));
    assert_eq!(manifest["filters"]["format"], malformed.len());
    assert_eq!(manifest["filters"]["kept"], kept.len());
    let stats = read_json(&clair.join("api-stats.json"));
    let reviser = &stats["reviser"]["api"];
    assert_eq!(reviser["failures"], serde_json::json!({ "http 500": 1 }));
    assert_eq!(
        stats["reviser"]["rejected"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        malformed.len() as u64
    );
    // Retries: one per 429 (q5, q15), two per q7/q17 500s, one per timeout (q9, q19), three for q11.
    assert_eq!(reviser["retries"], 2 + 4 + 2 + 3);
    assert_eq!(reviser["requests"], n as u64 + 11);
    assert!(reviser["completion_tokens"].as_u64().unwrap() > 0);

    // The 429 said "Retry-After: 1" and the client waited (its own backoff is 5 ms).
    let by_prompt = |i: usize| -> Vec<MockRequest> {
        teacher
            .requests()
            .into_iter()
            .filter(|r| r.prompt().contains("{student_solution}: ") && question(r.prompt()) == i)
            .collect()
    };
    let q5 = by_prompt(5);
    assert_eq!(q5.len(), 2);
    assert!(q5[1].at.duration_since(q5[0].at) >= Duration::from_millis(950), "{:?}", q5[1].at.duration_since(q5[0].at));

    // The judge: replies with neither verdict rejected; one naming both resolved by the last
    // (kept, and counted by rule); each kept winner is the one the judge named.
    let judged = &tasks["dataset/judge_on_policy"];
    let manifest = read_json(&judged.join("manifest.json"));
    assert_eq!(manifest["filters"]["format"], malformed.len());
    let kept = pairs(judged);
    assert_eq!(kept.len(), n - malformed.len() - 1);
    for p in &kept {
        assert!(p["chosen"].as_str().unwrap() > p["rejected"].as_str().unwrap(), "{p}");
    }
    let stats = read_json(&judged.join("api-stats.json"));
    let verdicts = &stats["judge"]["verdicts"];
    let (one, both) =
        (verdicts["one verdict"].as_u64().unwrap(), verdicts["both verdicts, the last taken"].as_u64().unwrap());
    assert!(both > 0 && one > 0, "{verdicts}");
    let rejected = stats["judge"]["rejected"].as_object().unwrap();
    assert_eq!(
        rejected.keys().collect::<Vec<_>>(),
        ["reply breaks the format: the judge's reply contains neither [1] nor [2]"]
    );
    eprintln!(
        "mock judge, dataset/judge_on_policy: kept by one verdict {one}, by the last of both {both}, rejected {rejected:?}"
    );
    // Stronger-preferred: the teacher's own answer wins.
    let strong = pairs(&tasks["dataset/stronger_preferred"]);
    assert_eq!(strong.len(), n - 1);
    assert!(strong.iter().all(|p| p["chosen"].as_str().unwrap().starts_with("the strong answer")));

    // The key is in no file of the results folder or the store (cache included).
    assert_eq!(files_containing(dir.path(), key), Vec::<PathBuf>::new());

    // A second build of the same requests (another length-ratio bound changes the datasets'
    // keys, not the requests or the pairs) is served from the cache: only the request that
    // failed for good is sent again, with its retries.
    let (before_target, before_teacher) = (target.received(), teacher.received());
    let g = grid(dir.path(), n, 3.0, &target.base_url(), &agents, &datasets);
    let out = run(&g, Some(key));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(target.received(), before_target, "the samples are a finished task");
    let resent: BTreeSet<usize> = teacher.requests()[before_teacher..].iter().map(|r| question(r.prompt())).collect();
    assert_eq!(resent, BTreeSet::from([11]));
    // q11 in CLAIR, in stronger-preferred, and (both samples) in the on-policy judge: 4 tries each.
    assert_eq!(teacher.received() - before_teacher, 3 * 4);
    let clair_stats: Vec<Value> = std::fs::read_dir(dir.path().join("store"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("api-stats.json"))
        .filter(|p| p.exists())
        .map(|p| read_json(&p))
        .filter(|s| s.get("reviser").is_some())
        .collect();
    assert_eq!(clair_stats.len(), 2);
    assert!(
        clair_stats
            .iter()
            .any(|s| s["reviser"]["api"]["cache_hits"] == n as u64 - 1 && s["reviser"]["api"]["requests"] == 4),
        "{clair_stats:?}"
    );
    assert_eq!(files_containing(dir.path(), key), Vec::<PathBuf>::new());
}

#[test]
fn a_build_that_fails_midway_resumes_without_resending_finished_requests() {
    let target = target_server();
    // Answers 10 requests, then 500 forever, until healed.
    let healed = Arc::new(AtomicBool::new(false));
    let h = healed.clone();
    let flaky = MockServer::start(move |r: &MockRequest| {
        if r.index < 10 || h.load(Ordering::SeqCst) {
            let text =
                format!("{{corrected_student_solution}}: {}, revised", field(r.prompt(), "{student_solution}: "));
            MockResponse::chat(&text, r.prompt())
        } else {
            MockResponse::error(500)
        }
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let n = 30;
    let g = grid(dir.path(), n, 2.0, &target.base_url(), &api_table("reviser", &flaky.base_url(), ""), &["clair"]);
    let out = run(&g, Some("k1"));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("20 of 30 items failed for good (http 500: 20)")
            && err.contains("a rerun sends only the failed requests"),
        "{err}"
    );
    assert!(!finished(&dir.path().join("store")).contains_key("dataset/clair"));
    let answered: BTreeSet<String> =
        flaky.requests().iter().filter(|r| r.index < 10).map(|r| r.prompt().to_string()).collect();
    assert_eq!(answered.len(), 10);

    // Healed, the same build sends exactly the 20 requests that had no reply, none twice.
    healed.store(true, Ordering::SeqCst);
    let before = flaky.received();
    let out = run_with(&g, Some("k1"), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The build's cost summary is printed under its line.
    assert!(
        stderr(&out).contains("reviser (mock-reviser): 30 items: 20 requests, 10 cached, 0 retries, 0 failed"),
        "{}",
        stderr(&out)
    );
    let resent: Vec<String> = flaky.requests()[before..].iter().map(|r| r.prompt().to_string()).collect();
    assert_eq!(resent.len(), n - 10);
    let unique: BTreeSet<&String> = resent.iter().collect();
    assert_eq!(unique.len(), n - 10);
    assert!(resent.iter().all(|p| !answered.contains(p)));
    let clair = &finished(&dir.path().join("store"))["dataset/clair"];
    assert_eq!(pairs(clair).len(), n);
    assert_eq!(read_json(&clair.join("api-stats.json"))["reviser"]["api"]["cache_hits"], 10);
}

#[test]
fn an_unreachable_api_or_a_missing_key_fails_clearly() {
    let target = target_server();
    // A port that nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let g = grid(dir.path(), 6, 2.0, &target.base_url(), &api_table("reviser", &url, ""), &["clair"]);
    let key = "sk-unreachable-secret-42";
    let out = run(&g, Some(key));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("6 of 6 items failed for good (connection: 6)"), "{err}");
    assert!(!err.contains(key));

    // No key in the environment: the error names the variable and the grid key, and `plan`
    // needs no key at all.
    let out = run(&g, None);
    let err = stderr(&out);
    assert!(err.contains(KEY_VAR) && err.contains("agents.reviser.api_key_env"), "{err}");
    let plan = Command::new(BIN).arg("plan").arg(&g).env_remove(KEY_VAR).output().unwrap();
    assert!(plan.status.success(), "{}", stderr(&plan));
}

#[test]
fn a_local_model_revises_through_a_user_template() {
    let target = target_server();
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("reviser.txt");
    std::fs::write(&template, "Fix: <<task>> => <<student_solution>>").unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama");
    let agents = format!(
        "[agents]\nreviser_template = \"{}\"\n[agents.sampling]\nmax_new_tokens = 6\n[agents.reviser]\nkind = \"model\"\nspec = \"hf:{}\"\n",
        template.display(),
        model.display()
    );
    let n = 4;
    let g = grid(dir.path(), n, 2.0, &target.base_url(), &agents, &["clair"]);
    let key_of = |g: &Path| -> String {
        let out = Command::new(BIN).args(["plan", "--json"]).arg(g).output().unwrap();
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        plan.as_array().unwrap().iter().find(|t| t["id"] == "dataset/clair").unwrap()["key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first_key = key_of(&g);
    let out = run(&g, Some("k"));
    // A random two-layer model writes no revision marker: every reply is a counted format
    // rejection, none a crash; the template (not the paper's prompt) reached the model. A
    // dataset left with no pairs is not done: its task fails with the counts.
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("of {n} items, {n} dropped for their format")), "{err}");
    assert!(err.contains("\"reply breaks the format: no corrected-solution marker"), "{err}");
    assert!(!finished(&dir.path().join("store")).contains_key("dataset/clair"));
    // The template's content is part of the dataset's key; a broken template is an error that
    // names the file and the missing placeholder.
    std::fs::write(&template, "Fix: <<task>> => <<student_solution>>!").unwrap();
    assert_ne!(key_of(&g), first_key);
    std::fs::write(&template, "Fix: <<task>>").unwrap();
    let out = Command::new(BIN).arg("plan").arg(&g).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("reviser.txt: the reviser template lacks the placeholder `<<student_solution>>`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn off_policy_pairs_come_from_the_completions_stored_with_the_prompts() {
    let (target, teacher) = (target_server(), teacher_server());
    let dir = tempfile::tempdir().unwrap();
    let n = 12;
    let agents = format!("{}[agents.off_policy]\nkind = \"file\"\n", api_table("judge", &teacher.base_url(), ""));
    let g = grid(dir.path(), n, 2.0, &target.base_url(), &agents, &["judge_off_policy"]);
    let out = run(&g, Some("k"));
    assert!(out.status.success(), "{}", stderr(&out));
    let ds = &finished(&dir.path().join("store"))["dataset/judge_off_policy"];
    let kept = pairs(ds);
    // q3 malformed verdict, q11 failed for good.
    assert_eq!(kept.len(), n - 2);
    for p in &kept {
        let i = question(p["prompt"].as_str().unwrap());
        let stored = [format!("blue {i}"), format!("red {i}"), format!("green {i}")];
        let (w, l) = (p["chosen"].as_str().unwrap(), p["rejected"].as_str().unwrap());
        assert!(stored.iter().any(|s| s == w) && stored.iter().any(|s| s == l) && w > l, "{p}");
    }
    assert_eq!(read_json(&ds.join("manifest.json"))["filters"]["format"], 1);
}

#[test]
fn the_off_policy_dataset_from_stored_ratings_asks_no_judge_about_its_pairs() {
    let (target, teacher) = (target_server(), teacher_server());
    let dir = tempfile::tempdir().unwrap();
    let n = 12;
    let agents = format!("{}[agents.off_policy]\nkind = \"file\"\n", api_table("judge", &teacher.base_url(), ""));
    let g = grid(dir.path(), n, 2.0, &target.base_url(), &agents, &["off_policy_ratings"]);
    // UltraFeedback's layout: `blue` rated 8, `red` 5 (8 for every fourth prompt: a tie),
    // `green` with per-aspect ratings only (unrated by `overall_score`).
    let prompts: String = (0..n)
        .map(|i| {
            let red = if i % 4 == 0 { 8 } else { 5 };
            format!(
                "{{\"prompt\": \"question {i}: name a colour\", \"completions\": [\
                 {{\"response\": \"blue {i}\", \"overall_score\": 8}}, {{\"response\": \"red {i}\", \"overall_score\": {red}}}, \
                 {{\"response\": \"green {i}\", \"annotations\": {{\"honesty\": {{\"Rating\": \"5\"}}}}}}]}}\n"
            )
        })
        .collect();
    std::fs::write(dir.path().join("prompts.jsonl"), prompts).unwrap();
    let out = run(&g, Some("k"));
    assert!(out.status.success(), "{}", stderr(&out));
    let ds = &finished(&dir.path().join("store"))["dataset/off_policy_ratings"];
    let ties = (0..n).filter(|i| i % 4 == 0).count();
    let kept = pairs(ds);
    assert_eq!(kept.len(), n - ties);
    for p in &kept {
        let i = question(p["prompt"].as_str().unwrap());
        assert_eq!(
            (p["chosen"].as_str().unwrap(), p["rejected"].as_str().unwrap()),
            (&*format!("blue {i}"), &*format!("red {i}"))
        );
        assert_eq!(
            (p["metadata"]["chosen_score"].as_f64(), p["metadata"]["rejected_score"].as_f64()),
            (Some(8.0), Some(5.0))
        );
    }
    let filters = &read_json(&ds.join("manifest.json"))["filters"];
    assert_eq!(
        (filters["tie"].as_u64(), filters["unrated"].as_u64(), filters["considered"].as_u64()),
        (Some(ties as u64), None, Some(n as u64))
    );
    // The judge saw only the winner-vs-model comparisons (a winner against the target's own
    // greedy answer), never two stored completions.
    assert!(teacher.received() > 0);
    assert!(teacher.requests().iter().all(|r| r.prompt().contains("greedy at temperature")), "a pair was judged");
}

#[test]
fn a_build_killed_midway_resends_at_most_the_requests_in_flight() {
    let target = target_server();
    // A reviser slow enough (40 ms a reply, 2 in flight) to be killed midway.
    let slow = MockServer::start(|r: &MockRequest| {
        let text = format!("{{corrected_student_solution}}: {}, revised", field(r.prompt(), "{student_solution}: "));
        MockResponse::chat(&text, r.prompt()).with_delay(Duration::from_millis(40))
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let n = 40;
    let concurrency = 2;
    let reviser =
        api_table("reviser", &slow.base_url(), "").replace("concurrency = 8", &format!("concurrency = {concurrency}"));
    let g = grid(dir.path(), n, 2.0, &target.base_url(), &reviser, &["clair"]);
    let mut child = Command::new(BIN)
        .args(["run", "--quiet", "--only", "datasets"])
        .arg(&g)
        .env(KEY_VAR, "k")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while slow.received() < 12 {
        assert!(start.elapsed() < Duration::from_secs(60), "the build never reached the reviser");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let before: Vec<String> = slow.requests().iter().map(|r| r.prompt().to_string()).collect();
    assert!(before.len() < n, "killed too late");

    // A worker sends its next request only after caching the previous reply, so only the last
    // request of each worker can have been lost with the process.
    let out = run(&g, Some("k"));
    assert!(out.status.success(), "{}", stderr(&out));
    let after: Vec<String> = slow.requests()[before.len()..].iter().map(|r| r.prompt().to_string()).collect();
    let again = after.iter().filter(|p| before.contains(p)).count();
    assert!(again <= concurrency, "{again} finished requests sent again");
    let all: BTreeSet<&String> = before.iter().chain(&after).collect();
    assert_eq!(all.len(), n);
    assert_eq!(after.len(), n - before.len() + again);
    assert_eq!(pairs(&finished(&dir.path().join("store"))["dataset/clair"]).len(), n);
}
