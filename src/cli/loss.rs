//! `apogrid loss`: evaluate one objective on given log-probabilities, in f64, and print the
//! loss, the rewards and the gradient of the batch loss with respect to the policy log-probs.
//!
//! The gradient is what burn's autodiff computes through [`apogrid::objective::Objective::loss`]
//! (the code path training uses, here on the flex CPU backend in f64), not a hand-written
//! derivative: the command is a window onto the trainer's loss.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use apogrid::objective::{Batch, LossOutput, Objective, PairedBatch, Rewards, UnpairedBatch};
use burn::tensor::{DType, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// The input format and output, shown by `apogrid loss --help`.
pub const HELP: &str = "\
INPUT (JSON lines; all lines form one batch; blank lines are skipped)
  Paired objectives (dpo, apo_zero, apo_down, apo_auto, kto_pair, sft), one line per pair:
    {\"policy_chosen_logps\": f, \"policy_rejected_logps\": f,
     \"reference_chosen_logps\": f, \"reference_rejected_logps\": f, \"chosen_tokens\": n,
     \"winner_beats_model\": bool}
    Log-probs are summed over the response tokens. `chosen_tokens` (optional, default 1) is the
    number of response tokens of the chosen output; only sft uses it: its loss is
    -sum(policy_chosen_logps) / sum(chosen_tokens), the token-weighted mean NLL.
    `winner_beats_model` (apo_auto only, required there) says whether the chosen output beats
    the model's own answer: apo_auto uses apo_zero's loss for that pair if so, else apo_down's.
  Unpaired objectives (apo_zero_unpaired, kto), one line per example:
    {\"policy_logps\": f, \"reference_logps\": f, \"desirable\": bool,
     \"policy_kl_logps\": f, \"reference_kl_logps\": f}
    The two KL fields are the log-probs of this position's mismatched pair (its prompt with
    another example's completion); kto needs them and a batch of at least 2, apo_zero_unpaired
    ignores them.

OUTPUT (one JSON object on stdout)
  paired:   {\"objective\", \"beta\", \"loss\", \"per_example_loss\": [..], \"chosen_rewards\": [..],
             \"rejected_rewards\": [..], \"grad_policy_chosen_logps\": [..],
             \"grad_policy_rejected_logps\": [..]}
            kto_pair's per_example_loss has 2B entries: the B chosen-side terms, then the B
            rejected-side terms. sft's per_example_loss is -policy_chosen_logps / chosen_tokens
            per pair; its rewards use --beta, which does not enter its loss.
  unpaired: {\"objective\", \"beta\", \"loss\", \"kl\", \"per_example_loss\": [..] (weighted, input
             order), \"rewards\": [..], \"grad_policy_logps\": [..]}
            kl is kto's detached estimate z0; 0 for apo_zero_unpaired (as TRL logs it).
  Rewards are beta * (policy - reference) log-probs. Gradients are d loss / d policy log-probs
  from burn's autodiff, in f64.

Malformed input (bad JSON, a missing or unknown field, a non-finite number, an empty batch, a
kto batch of one) is an error naming the line; the exit status is then non-zero. So are
log-probs so large in magnitude (near +-1e308) that beta times a log-ratio or the margin, or any
output, overflows f64: every objective refuses them alike rather than print `null`.";

/// Evaluate an objective on given log-probs and print loss, rewards and gradients (f64).
#[derive(clap::Args, Debug)]
#[command(after_long_help = HELP)]
pub struct Args {
    /// The objective to evaluate.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(apogrid::objective::ObjectiveKind::ALL.map(|k| k.name())))]
    pub objective: String,
    /// Reward scale beta (> 0). For sft it only scales the reported rewards.
    #[arg(long, default_value_t = apogrid::objective::DEFAULT_BETA)]
    pub beta: f64,
    /// Weight of desirable examples (apo_zero_unpaired, kto only; default 1).
    #[arg(long)]
    pub desirable_weight: Option<f64>,
    /// Weight of undesirable examples (apo_zero_unpaired, kto only; default 1).
    #[arg(long)]
    pub undesirable_weight: Option<f64>,
    /// JSON-lines input file; standard input when absent.
    #[arg(long)]
    pub input: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairedLine {
    policy_chosen_logps: f64,
    policy_rejected_logps: f64,
    reference_chosen_logps: f64,
    reference_rejected_logps: f64,
    chosen_tokens: Option<u64>,
    winner_beats_model: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnpairedLine {
    policy_logps: f64,
    reference_logps: f64,
    desirable: bool,
    policy_kl_logps: Option<f64>,
    reference_kl_logps: Option<f64>,
}

#[derive(Serialize)]
struct PairedReport<'a> {
    objective: &'a str,
    beta: f64,
    loss: f64,
    per_example_loss: Vec<f64>,
    chosen_rewards: Vec<f64>,
    rejected_rewards: Vec<f64>,
    grad_policy_chosen_logps: Vec<f64>,
    grad_policy_rejected_logps: Vec<f64>,
}

#[derive(Serialize)]
struct UnpairedReport<'a> {
    objective: &'a str,
    beta: f64,
    loss: f64,
    kl: f64,
    per_example_loss: Vec<f64>,
    rewards: Vec<f64>,
    grad_policy_logps: Vec<f64>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (d, u) = (args.desirable_weight, args.undesirable_weight);
    let objective = Objective::new(&args.objective, args.beta, d.unwrap_or(1.0), u.unwrap_or(1.0))?;
    if objective.is_paired() && (d.is_some() || u.is_some()) {
        bail!("--desirable-weight / --undesirable-weight apply only to apo_zero_unpaired and kto, not {objective}");
    }
    let (source, text) = read_input(args.input.as_ref())?;
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        let unit = if objective.is_paired() { "pair" } else { "example" };
        bail!("{source}: empty batch: no JSON lines (expected one line per {unit})");
    }
    let json = if objective.is_paired() {
        serde_json::to_string(&paired(objective, &source, &lines)?)?
    } else {
        serde_json::to_string(&unpaired(objective, &source, &lines)?)?
    };
    println!("{json}");
    Ok(())
}

fn read_input(path: Option<&PathBuf>) -> anyhow::Result<(String, String)> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Ok((p.display().to_string(), text))
        }
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("reading standard input")?;
            Ok(("<stdin>".to_string(), text))
        }
    }
}

/// Parses one line, turning serde's "… at line 1 column 7" into "column 7: …" under our own
/// line number.
fn parse_line<T: for<'de> Deserialize<'de>>(source: &str, n: usize, line: &str) -> anyhow::Result<T> {
    serde_json::from_str(line).map_err(|e| {
        let msg = e.to_string();
        let msg = match msg.rfind(" at line ") {
            Some(at) => &msg[..at],
            None => &msg,
        };
        let hint = if msg.contains("out of range") { " (log-probs must be finite f64 numbers)" } else { "" };
        anyhow::anyhow!("{source}:{n}: column {}: {msg}{hint}", e.column())
    })
}

fn check_finite(source: &str, n: usize, fields: &[(&str, f64)]) -> anyhow::Result<()> {
    for (name, value) in fields {
        if !value.is_finite() {
            bail!("{source}:{n}: `{name}` must be a finite number, got {value}");
        }
    }
    Ok(())
}

/// f64 tensors on flex's CPU autodiff device, the one place this command picks a backend.
fn device() -> Device {
    Device::flex().autodiff()
}

fn tensor(values: Vec<f64>) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), (&device(), DType::F64))
}

fn host(t: Tensor<1>) -> anyhow::Result<Vec<f64>> {
    t.into_data().convert::<f64>().try_into_vec::<f64>().map_err(|e| anyhow::anyhow!("reading a tensor back: {e:?}"))
}

/// The gradient of `loss` with respect to each leaf, zeros for a leaf the loss does not use.
fn gradients(out: &LossOutput, leaves: &[&Tensor<1>]) -> anyhow::Result<Vec<Vec<f64>>> {
    let grads = out.loss.backward();
    leaves
        .iter()
        .map(|leaf| match leaf.grad(&grads) {
            Some(g) => host(g),
            None => Ok(vec![0.0; leaf.dims()[0]]),
        })
        .collect()
}

fn paired<'a>(objective: Objective, source: &str, lines: &[(usize, &str)]) -> anyhow::Result<PairedReport<'a>> {
    let (mut pc, mut pr, mut rc, mut rr, mut tokens) = (vec![], vec![], vec![], vec![], vec![]);
    let mut flags: Vec<(usize, Option<bool>)> = Vec::new();
    for &(n, line) in lines {
        let l: PairedLine = parse_line(source, n, line)?;
        check_finite(
            source,
            n,
            &[
                ("policy_chosen_logps", l.policy_chosen_logps),
                ("policy_rejected_logps", l.policy_rejected_logps),
                ("reference_chosen_logps", l.reference_chosen_logps),
                ("reference_rejected_logps", l.reference_rejected_logps),
            ],
        )?;
        let (lw, ll) =
            (l.policy_chosen_logps - l.reference_chosen_logps, l.policy_rejected_logps - l.reference_rejected_logps);
        let beta = objective.beta();
        check_derived(
            source,
            n,
            &[
                ("beta * (policy_chosen_logps - reference_chosen_logps)", beta * lw),
                ("beta * (policy_rejected_logps - reference_rejected_logps)", beta * ll),
                ("beta * the margin (chosen minus rejected log-ratio)", beta * (lw - ll)),
            ],
        )?;
        let t = l.chosen_tokens.unwrap_or(1);
        if t == 0 {
            bail!("{source}:{n}: `chosen_tokens` must be at least 1, got 0");
        }
        pc.push(l.policy_chosen_logps);
        pr.push(l.policy_rejected_logps);
        rc.push(l.reference_chosen_logps);
        rr.push(l.reference_rejected_logps);
        tokens.push(usize::try_from(t).with_context(|| format!("{source}:{n}: `chosen_tokens` too large"))?);
        flags.push((n, l.winner_beats_model));
    }
    let mut batch = PairedBatch::new(tensor(pc).require_grad(), tensor(pr).require_grad(), tensor(rc), tensor(rr))
        .with_chosen_tokens(tokens);
    if let Some(all) = flags.iter().map(|(_, f)| *f).collect::<Option<Vec<bool>>>() {
        batch = batch.with_winner_beats_model(all);
    } else if let Some((n, _)) = flags.iter().find(|(_, f)| f.is_none())
        && objective.kind().needs_comparisons()
    {
        bail!("{source}:{n}: `{}` needs `winner_beats_model` (true or false) on every line", objective.name());
    }
    let out = objective.loss(&Batch::Paired(batch.clone())).with_context(|| source.to_string())?;
    let grads = gradients(&out, &[&batch.policy_chosen, &batch.policy_rejected])?;
    let Rewards::Paired { chosen, rejected } = out.rewards.clone() else {
        bail!("internal: {objective} returned unpaired rewards");
    };
    let [gc, gr]: [Vec<f64>; 2] = grads.try_into().map_err(|_| anyhow::anyhow!("internal: gradient count"))?;
    let report = PairedReport {
        objective: objective.name(),
        beta: objective.beta(),
        loss: host(out.loss.clone())?[0],
        per_example_loss: host(out.per_example.clone())?,
        chosen_rewards: chosen,
        rejected_rewards: rejected,
        grad_policy_chosen_logps: gc,
        grad_policy_rejected_logps: gr,
    };
    check_output(
        source,
        lines,
        report.loss,
        &[
            ("the loss", &report.per_example_loss),
            ("the chosen reward", &report.chosen_rewards),
            ("the rejected reward", &report.rejected_rewards),
            ("the gradient for policy_chosen_logps", &report.grad_policy_chosen_logps),
            ("the gradient for policy_rejected_logps", &report.grad_policy_rejected_logps),
        ],
    )?;
    Ok(report)
}

fn unpaired<'a>(objective: Objective, source: &str, lines: &[(usize, &str)]) -> anyhow::Result<UnpairedReport<'a>> {
    let (mut p, mut r, mut d, mut pkl, mut rkl) = (vec![], vec![], vec![], vec![], vec![]);
    for &(n, line) in lines {
        let l: UnpairedLine = parse_line(source, n, line)?;
        check_finite(source, n, &[("policy_logps", l.policy_logps), ("reference_logps", l.reference_logps)])?;
        let ratio = objective.beta() * (l.policy_logps - l.reference_logps);
        check_derived(source, n, &[("beta * (policy_logps - reference_logps)", ratio)])?;
        match (l.policy_kl_logps, l.reference_kl_logps) {
            (Some(a), Some(b)) => {
                check_finite(source, n, &[("policy_kl_logps", a), ("reference_kl_logps", b)])?;
                check_derived(
                    source,
                    n,
                    &[("beta * (policy_kl_logps - reference_kl_logps)", objective.beta() * (a - b))],
                )?;
                pkl.push(a);
                rkl.push(b);
            }
            (None, None) if !objective.needs_kl() => {}
            (a, _) => {
                let field = if a.is_none() { "policy_kl_logps" } else { "reference_kl_logps" };
                bail!(
                    "{source}:{n}: missing field `{field}` ({})",
                    if objective.needs_kl() {
                        "kto needs the log-probs of this position's mismatched pair"
                    } else {
                        "give both KL fields or neither"
                    }
                );
            }
        }
        p.push(l.policy_logps);
        r.push(l.reference_logps);
        d.push(l.desirable);
    }
    if objective.needs_kl() && lines.len() < 2 {
        bail!(
            "{source}:{}: kto needs a batch of at least 2 examples (its KL estimate pairs each prompt with another example's completion); the input has 1",
            lines[0].0
        );
    }
    let mut batch = UnpairedBatch::new(tensor(p).require_grad(), tensor(r), d);
    if pkl.len() == lines.len() {
        batch = batch.with_kl(tensor(pkl), tensor(rkl));
    }
    let out = objective.loss(&Batch::Unpaired(batch.clone())).with_context(|| source.to_string())?;
    let grads = gradients(&out, &[&batch.policy])?;
    let Rewards::Unpaired(rewards) = out.rewards.clone() else {
        bail!("internal: {objective} returned paired rewards");
    };
    let report = UnpairedReport {
        objective: objective.name(),
        beta: objective.beta(),
        loss: host(out.loss.clone())?[0],
        kl: out.metrics.z0.unwrap_or(0.0),
        per_example_loss: host(out.per_example.clone())?,
        rewards,
        grad_policy_logps: grads.into_iter().next().unwrap_or_default(),
    };
    check_output(
        source,
        lines,
        report.loss,
        &[
            ("the loss", &report.per_example_loss),
            ("the reward", &report.rewards),
            ("the gradient for policy_logps", &report.grad_policy_logps),
        ],
    )?;
    Ok(report)
}

/// Numbers every objective derives from one line (log-ratios times beta, the margin): finite
/// inputs near f64's limits (±1e308) overflow here, and then every objective would print
/// `null` or fail somewhere else. Refused for all objectives alike, naming the line.
fn check_derived(source: &str, n: usize, derived: &[(&str, f64)]) -> anyhow::Result<()> {
    for (what, value) in derived {
        if !value.is_finite() {
            bail!(
                "{source}:{n}: {what} overflows f64 ({value}); the log-probs are too large in magnitude \
                 (summed log-probs of real responses are many orders of magnitude smaller)"
            );
        }
    }
    Ok(())
}

/// JSON cannot carry NaN or infinities, so a non-finite output is an error, never `null`.
/// Each vector has one entry per line (kto_pair's loss two: its chosen then rejected terms), so
/// the line is named; a non-finite batch loss from finite terms (their sum overflows) names the
/// line whose term tips the sum over.
fn check_output(source: &str, lines: &[(usize, &str)], loss: f64, vectors: &[(&str, &Vec<f64>)]) -> anyhow::Result<()> {
    let line_of = |i: usize| lines[i % lines.len()].0;
    for (what, v) in vectors {
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            bail!(
                "{source}:{}: {what} overflows f64 on this line ({}); the log-probs are too large in magnitude",
                line_of(i),
                v[i]
            );
        }
    }
    if !loss.is_finite() {
        let terms = vectors.first().map_or(&[][..], |v| v.1.as_slice());
        let mut sum = 0.0f64;
        let tipping = terms.iter().position(|x| {
            sum += x.abs();
            !sum.is_finite()
        });
        let i = tipping.unwrap_or(0);
        bail!(
            "{source}:{}: the batch loss overflows f64 ({loss}) when this line's term is added; the log-probs are too large in magnitude",
            line_of(i)
        );
    }
    Ok(())
}
