//! Malformed grids: each error must name the line and the key, and say what was expected.

use std::path::Path;

use super::{GridError, parse};

const GOOD: &str = r#"
[grid]
name = "t"
seed = 1

[model]
spec = "tiny"

[train]
epochs = 2
learning_rate = 1e-4

[[dataset]]
name = "clair"
builder = "clair"

[[dataset]]
name = "onp"
builder = "judge_on_policy"

[[objective]]
name = "dpo"
kind = "dpo"

[[objective]]
name = "sft"
kind = "sft"
"#;

fn err(text: &str) -> GridError {
    match parse(text, Path::new("grids/bad.toml")) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

/// Replaces the first occurrence of `from` in the good grid.
fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "fixture lacks {from:?}");
    GOOD.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in text") + 1
}

fn assert_err(text: &str, line_needle: &str, key: &str, message_part: &str) {
    let e = err(text);
    let shown = e.to_string();
    assert!(shown.starts_with("grids/bad.toml:"), "{shown}");
    assert_eq!(e.line, line_of(text, line_needle), "wrong line in: {shown}");
    assert_eq!(e.key.as_deref(), Some(key), "wrong key in: {shown}");
    assert!(shown.contains(message_part), "`{message_part}` not in: {shown}");
    assert!(!shown.contains("Spanned") && !shown.contains("GridFile"), "debug dump in: {shown}");
}

#[test]
fn the_good_grid_parses_with_defaults() {
    let g = parse(GOOD, Path::new("g.toml")).expect("valid");
    assert_eq!(g.name, "t");
    assert_eq!(g.seeds, vec![1]);
    assert_eq!(g.cells.len(), 4);
    assert_eq!(g.objectives[0].loss.beta(), 0.1);
    assert!(!g.objectives[1].loss.needs_reference(), "sft has no reward scale");
    assert_eq!(g.train.batch_size, 16);
    assert_eq!(g.train.max_prompt_tokens, 512);
    assert!(matches!(g.datasets[0].source, super::DatasetSource::Build { length_ratio: (_, 2.0), .. }));
}

#[test]
fn toml_syntax_error() {
    let t = with("epochs = 2", "epochs = = 2");
    let e = err(&t);
    assert_eq!(e.line, line_of(&t, "epochs = = 2"), "{e}");
}

#[test]
fn unknown_key_in_train() {
    let t = with("learning_rate = 1e-4", "lerning_rate = 1e-4");
    assert_err(&t, "lerning_rate", "train.lerning_rate", "unknown field `lerning_rate`");
}

#[test]
fn unknown_top_level_table() {
    let t = format!("{GOOD}\n[trainer]\nepochs = 3\n");
    assert_err(&t, "[trainer]", "trainer", "unknown field `trainer`");
}

#[test]
fn wrong_type_for_learning_rate() {
    let t = with("learning_rate = 1e-4", "learning_rate = \"fast\"");
    assert_err(&t, "\"fast\"", "train.learning_rate", "expected f64");
}

#[test]
fn name_with_a_slash_cannot_escape_the_results_folder() {
    let t = with("name = \"clair\"", "name = \"../clair\"");
    assert_err(&t, "../clair", "dataset[0].name", "contains `.`");
}

#[test]
fn upper_case_grid_name() {
    let t = with("name = \"t\"", "name = \"Tiny\"");
    assert_err(&t, "Tiny", "grid.name", "lower-case");
}

#[test]
fn duplicate_dataset_name() {
    let t = with("name = \"onp\"", "name = \"clair\"");
    let second = t.lines().enumerate().filter(|(_, l)| l.contains("name = \"clair\"")).nth(1).expect("two").0 + 1;
    let e = err(&t);
    assert_eq!(e.line, second, "{e}");
    assert_eq!(e.key.as_deref(), Some("dataset[1].name"));
    assert!(e.to_string().contains("declared twice"), "{e}");
}

#[test]
fn unknown_builder() {
    let t = with("builder = \"clair\"", "builder = \"clear\"");
    assert_err(&t, "\"clear\"", "dataset.builder", "unknown variant `clear`");
}

#[test]
fn unknown_objective_kind() {
    let t = with("kind = \"dpo\"", "kind = \"ipo\"");
    assert_err(&t, "\"ipo\"", "objective.kind", "unknown variant `ipo`");
}

#[test]
fn negative_beta() {
    let t = with("kind = \"dpo\"", "kind = \"dpo\"\nbeta = -0.1");
    assert_err(&t, "beta = -0.1", "objective[0].beta", "positive");
}

#[test]
fn beta_on_sft() {
    let t = with("kind = \"sft\"", "kind = \"sft\"\nbeta = 0.1");
    assert_err(&t, "beta = 0.1", "objective[1].beta", "no reward scale");
}

#[test]
fn weight_on_a_paired_objective() {
    let t = with("kind = \"dpo\"", "kind = \"dpo\"\ndesirable_weight = 1.5");
    assert_err(&t, "desirable_weight", "objective[0].desirable_weight", "unpaired objectives only");
}

#[test]
fn path_on_a_non_file_builder() {
    let t = with("builder = \"clair\"", "builder = \"clair\"\npath = \"x.jsonl\"");
    assert_err(&t, "x.jsonl", "dataset[0].path", "only for builder `file`");
}

#[test]
fn file_builder_without_path() {
    let t = with("builder = \"clair\"", "builder = \"file\"");
    assert_err(&t, "name = \"clair\"", "dataset[0].path", "needs `path`");
}

#[test]
fn exclusion_of_an_unknown_objective() {
    let t = format!("{GOOD}\n[[exclude]]\ndataset = \"clair\"\nobjective = \"ipo\"\n");
    assert_err(&t, "objective = \"ipo\"", "exclude.objective", "no objective is named `ipo`");
}

#[test]
fn seed_and_seeds_together() {
    let t = with("seed = 1", "seed = 1\nseeds = [1, 2]");
    assert_err(&t, "seeds = [1, 2]", "grid.seeds", "not both");
}

#[test]
fn inverted_length_ratios() {
    let t = with("builder = \"clair\"", "builder = \"clair\"\nmin_length_ratio = 3.0");
    assert_err(&t, "min_length_ratio", "dataset[0].min_length_ratio", "larger than max_length_ratio");
}

#[test]
fn unknown_model_spec() {
    let t = with("spec = \"tiny\"", "spec = \"llama\"");
    assert_err(&t, "\"llama\"", "model.spec", "expected `tiny`, `smollm2`, `hf:DIR` or `gguf:FILE`");
}

#[test]
fn missing_grid_name() {
    let t = with("name = \"t\"\n", "");
    let e = err(&t);
    assert!(e.to_string().contains("missing field `name`"), "{e}");
    assert_eq!(e.key.as_deref(), Some("grid"), "{e}");
}

#[test]
fn batch_not_a_multiple_of_micro_batch() {
    let t = with("epochs = 2", "epochs = 2\nbatch_size = 16\nmicro_batch_size = 5");
    let e = err(&t);
    assert_eq!(e.key.as_deref(), Some("train.micro_batch_size"), "{e}");
    assert!(e.to_string().contains("not a multiple"), "{e}");
}

#[test]
fn seeds_replicate_cells_and_exclusions_remove_them() {
    let t = with("seed = 1", "seeds = [1, 2, 3]");
    let t = format!("{t}\n[[exclude]]\ndataset = \"onp\"\nobjective = \"sft\"\n");
    let g = parse(&t, Path::new("g.toml")).expect("valid");
    assert_eq!(g.cells.len(), 3 * 3);
}

#[test]
fn disabled_objectives_are_not_cells() {
    let t = with("kind = \"sft\"", "kind = \"sft\"\nenabled = false");
    let g = parse(&t, Path::new("g.toml")).expect("valid");
    assert_eq!(g.objectives.len(), 1);
    assert_eq!(g.cells.len(), 2);
}

#[test]
fn the_shipped_grids_are_valid() {
    for f in ["grids/paper.toml", "grids/tiny.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(f);
        if let Err(e) = super::load(&path) {
            panic!("{e}");
        }
    }
}

#[test]
fn a_command_evaluator_without_its_command_fails_at_plan() {
    let t = format!("{GOOD}\n[eval]\nbenchmark = \"command\"\n");
    assert_err(&t, "benchmark = \"command\"", "eval.command", "needs `command = [");
    let t = format!(
        "{GOOD}\n[eval]\nbenchmark = \"command\"\ncommand = [\"python3\", \"{{checkpoint}}\", \"{{output}}\"]\n"
    );
    assert_err(&t, "command = [", "eval.command", "unknown placeholder `{checkpoint}`");
    let t = format!("{GOOD}\n[eval]\nbenchmark = \"command\"\ncommand = [\"scripts/nope.sh\", \"{{output}}\"]\n");
    assert_err(&t, "command = [", "eval.command", "does not exist");
    let t = format!("{GOOD}\n[eval]\ncommand = [\"python3\", \"{{output}}\"]\n");
    assert_err(&t, "command = [", "eval.command", "for `benchmark = \"command\"` only");
}

#[test]
fn kto_with_micro_batches_of_one_fails_at_plan() {
    let t = format!("{GOOD}\n[[objective]]\nname = \"kto\"\nkind = \"kto\"\n");
    let t = t.replace("learning_rate = 1e-4", "learning_rate = 1e-4\nmicro_batch_size = 1");
    assert_err(&t, "name = \"kto\"", "train.micro_batch_size", "needs micro-batches of at least 2");
    // Disabled, it is not a cell and not refused.
    let off = t.replace("kind = \"kto\"", "kind = \"kto\"\nenabled = false");
    assert!(parse(&off, Path::new("g.toml")).is_ok());
}

#[test]
fn model_specs_and_devices_have_one_parser_each() {
    let t = with("spec = \"tiny\"", "spec = \"tiny:3\"");
    assert_err(&t, "tiny:3", "model.spec", "write `tiny`");
    let t = format!("{GOOD}\n[devices]\nlist = [\"tpu:0\"]\n");
    assert_eq!(err(&t).key.as_deref(), Some("devices.list[0]"));
    assert!(err(&t).to_string().contains("unknown device `tpu:0`"));
}

/// Every value a plan would accept and a run would choke on, or silently misread, is refused
/// here with its line and key (issue 18's list, one case each).
#[test]
fn nonsense_is_refused_at_plan_with_a_position() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("epochs = 2", "epochs = 0", "train.epochs", "expected 1 to 1000 epochs"),
        ("epochs = 2", "epochs = 1000000000", "train.epochs", "expected 1 to 1000 epochs"),
        ("epochs = 2", "epochs = 2\nbatch_size = 0", "train.batch_size", "at least 1"),
        ("learning_rate = 1e-4", "learning_rate = -1e-5", "train.learning_rate", "positive"),
        ("learning_rate = 1e-4", "learning_rate = nan", "train.learning_rate", "positive"),
        ("learning_rate = 1e-4", "learning_rate = inf", "train.learning_rate", "positive"),
        ("epochs = 2", "epochs = 2\nmicro_batch_size = 3", "train.micro_batch_size", "not a multiple"),
    ];
    for (from, to, key, message) in cases {
        let t = with(from, to);
        let needle = to.lines().last().expect("a line");
        assert_err(&t, needle, key, message);
    }
    let appended: &[(&str, &str, &str, &str)] = &[
        ("[devices]\njobs = 0\n", "jobs = 0", "devices.jobs", "at least 1"),
        ("[devices]\nmemory_gib = -1\n", "memory_gib = -1", "devices.memory_gib", "a positive size in GiB"),
        ("[devices]\nlist = [\"tpu:0\"]\n", "list = ", "devices.list[0]", "unknown device `tpu:0`"),
        ("[prompts]\ncount = 0\n", "count = 0", "prompts.count", "at least one prompt"),
        ("[model.pretrain]\nbatch_size = 0\n", "batch_size = 0", "model.pretrain.batch_size", "at least 1"),
        ("[eval]\ncount = 0\n", "count = 0", "eval.count", "expected 1 to"),
        ("[eval]\nmax_new_tokens = 0\n", "max_new_tokens = 0", "eval.max_new_tokens", "empty answer"),
        (
            "[prompts]\ncount = 50\n[eval]\nheldout_pairs = 50\n",
            "heldout_pairs = 50",
            "eval.heldout_pairs",
            "every one",
        ),
        ("[agents.sampling]\ntemperature = nan\n", "temperature = nan", "agents.sampling.temperature", ">= 0"),
        ("[agents.sampling]\ntemperature = -1.0\n", "temperature = -1.0", "agents.sampling.temperature", ">= 0"),
        (
            "[[exclude]]\ndataset = \"clair\"\nobjective = \"dpo\"\n[[exclude]]\ndataset = \"clair\"\nobjective = \"sft\"\n\
             [[exclude]]\ndataset = \"onp\"\nobjective = \"dpo\"\n[[exclude]]\ndataset = \"onp\"\nobjective = \"sft\"\n",
            "[[exclude]]",
            "exclude",
            "every dataset x objective cell is excluded",
        ),
    ];
    for (extra, needle, key, message) in appended {
        let t = format!("{GOOD}\n{extra}");
        let e = err(&t);
        assert!(e.line > 0, "no position for {key}: {e}");
        assert_eq!(e.key.as_deref(), Some(*key), "{e}");
        assert!(e.to_string().contains(message), "`{message}` not in {e}");
        if *key != "exclude" {
            assert_eq!(e.line, line_of(&t, needle), "{e}");
        }
    }
}

#[test]
fn missing_input_files_are_listed_for_plan_and_run_to_refuse() {
    let t = format!(
        "{GOOD}\n[prompts]\nsource = \"file\"\npath = \"no/such.jsonl\"\n[[dataset]]\nname = \"mine\"\nbuilder = \"file\"\npath = \"no/such2.jsonl\"\n"
    );
    let g = parse(&t, Path::new("grids/bad.toml")).expect("valid apart from its inputs");
    let shown: Vec<String> = g.missing.iter().map(|e| e.to_string()).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown[0].contains(&format!(":{}:", line_of(&t, "path = \"no/such.jsonl"))) && shown[0].contains("prompts.path")
    );
    assert!(shown[1].contains("dataset[2].path") && shown[1].contains("no such file `no/such2.jsonl`"));
}

#[test]
fn a_grid_file_that_is_not_utf8_names_the_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, b"[grid]\nname = \"t\xff\"\n").unwrap();
    let e = super::load(&path).unwrap_err();
    assert_eq!((e.line, e.column), (2, 10), "{e}");
    assert_eq!(e.to_string().matches("not UTF-8").count(), 1, "{e}");
}

#[test]
fn fidelity_options_are_checked_at_plan() {
    // A negative clipping norm, named by its key.
    let bad = with("learning_rate = 1e-4", "learning_rate = 1e-4\nwarmup_ratio = 1.5");
    assert_err(&bad, "warmup_ratio", "train.warmup_ratio", "expected a share of the updates in [0, 1)");
    let bad = with("learning_rate = 1e-4", "learning_rate = 1e-4\nmax_grad_norm = -1.0");
    assert_err(&bad, "max_grad_norm", "train.max_grad_norm", "expected a positive norm");
    assert!(parse(&with("learning_rate = 1e-4", "learning_rate = 1e-4\nmax_grad_norm = 1.0"), Path::new("g")).is_ok());
    // `rating` belongs to the ratings builder, which needs stored completions.
    let bad = with("builder = \"clair\"", "builder = \"clair\"\nrating = \"overall_score\"");
    assert_err(&bad, "rating = ", "dataset[0].rating", "only for builder `off_policy_ratings`");
    let bad = with("builder = \"clair\"", "builder = \"off_policy_ratings\"");
    assert_err(&bad, "name = \"clair\"", "dataset[0].builder", "needs `[agents.off_policy] kind = \"file\"`");
    // apo_auto reads comparisons an imported dataset does not have.
    let dir = tempfile::tempdir().unwrap();
    let triples = dir.path().join("t.jsonl");
    std::fs::write(&triples, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n").unwrap();
    let file = format!("builder = \"file\"\npath = \"{}\"", triples.display());
    let bad = with("builder = \"clair\"", &file).replacen("kind = \"sft\"", "kind = \"apo_auto\"", 1);
    assert_err(&bad, "name = \"sft\"", "objective[1].kind", "needs each pair's winner-vs-model comparison");
}
