//! One function per claim of the paper, each a pure function of the grid's cells (the rules
//! are stated in [`super`] and in the table's caption).

use super::Claim;
use super::cells::{
    Cell, Cells, Contest, any_dataset, difference_text, is_clair, is_off_policy, is_on_policy_judge,
    is_stronger_preferred, with_seeds,
};
use super::verdict::{Basis, Decision, Verdict, all_of, decide, where_distinguishable};
use crate::objective::ObjectiveKind::{self, ApoAuto, ApoDown, ApoZero};
use crate::report::collect::{DatasetInfo, DatasetNumbers};
use crate::report::interval::{Estimate, Side};
use crate::report::render::fixed;

fn not_measured(id: char, statement: &'static str, why: String) -> Claim {
    Claim { id, statement, decision: Decision::NOT_MEASURED, estimate: None, evidence: why }
}

fn of_kind<'a>(cells: &[Cell<'a>], kinds: &[ObjectiveKind]) -> Vec<Cell<'a>> {
    cells.iter().copied().filter(|c| kinds.contains(&c.kind())).collect()
}

fn not_of_kind<'a>(cells: &[Cell<'a>], kinds: &[ObjectiveKind]) -> Vec<Cell<'a>> {
    cells.iter().copied().filter(|c| !kinds.contains(&c.kind())).collect()
}

/// (a) CLAIR is the most contrastive dataset: every built `clair` dataset has a higher Jaccard %
/// and a lower Levenshtein distance than every other built dataset. Exact numbers of Table 1.
pub fn clair_most_contrastive(cells: &Cells) -> Claim {
    const S: &str = "CLAIR is the most contrastive dataset (Table 1: highest Jaccard %, lowest Levenshtein)";
    let built: Vec<(&DatasetInfo, &DatasetNumbers)> =
        cells.collected.datasets.iter().filter_map(|d| d.manifest.as_ref().map(|m| (d, m))).collect();
    type Built<'a> = (&'a DatasetInfo, &'a DatasetNumbers);
    let (clair, others): (Vec<Built>, Vec<Built>) = built.iter().partition(|(d, _)| is_clair(d.kind));
    if clair.is_empty() || others.is_empty() {
        let why = if cells.datasets(is_clair).is_empty() {
            "the grid has no clair dataset".to_string()
        } else {
            "needs a built clair dataset and another built dataset".to_string()
        };
        return not_measured('a', S, why);
    }
    let jaccard = |m: &DatasetNumbers| m.contrast.mean_jaccard;
    let levenshtein = |m: &DatasetNumbers| m.contrast.mean_levenshtein;
    let top_other = others.iter().max_by(|a, b| jaccard(a.1).total_cmp(&jaccard(b.1))).expect("others");
    let closest_other = others.iter().min_by(|a, b| levenshtein(a.1).total_cmp(&levenshtein(b.1))).expect("others");
    let jaccard_ok = clair.iter().all(|(_, m)| jaccard(m) > jaccard(top_other.1));
    let levenshtein_ok = clair.iter().all(|(_, m)| levenshtein(m) < levenshtein(closest_other.1));
    let mut parts: Vec<String> = clair
        .iter()
        .map(|(d, m)| format!("{} Jaccard {}%, Levenshtein {}", d.name, fixed(jaccard(m), 2), fixed(levenshtein(m), 1)))
        .collect();
    parts.push(format!("highest other Jaccard: {} {}%", top_other.0.name, fixed(jaccard(top_other.1), 2)));
    parts.push(format!(
        "lowest other Levenshtein: {} {}",
        closest_other.0.name,
        fixed(levenshtein(closest_other.1), 1)
    ));
    let verdict = if jaccard_ok && levenshtein_ok { Verdict::Reproduced } else { Verdict::NotReproduced };
    Claim {
        id: 'a',
        statement: S,
        decision: Decision { verdict, basis: Basis::Exact },
        estimate: None,
        evidence: format!("{} (exact, no interval needed)", parts.join("; ")),
    }
}

/// (b) CLAIR × APO-zero is the best cell of the grid: the best `clair` × `apo_zero` cell
/// against the best other cell, by Mean improvement; Welch's interval on the difference must
/// lie above 0.
pub fn clair_apo_zero_best_cell(cells: &Cells) -> Claim {
    const S: &str = "CLAIR × APO-zero is the best cell of the grid (highest Mean improvement)";
    let targets = of_kind(&cells.on(is_clair), &[ApoZero]);
    let rivals: Vec<Cell> =
        cells.all.iter().copied().filter(|c| !(is_clair(c.dataset.kind) && c.kind() == ApoZero)).collect();
    if targets.is_empty() {
        return not_measured('b', S, cells.why_absent(is_clair, "clair", ApoZero));
    }
    contest_claim('b', S, &targets, &rivals, "no other cell has numbers yet")
}

/// A claim that the best of `targets` beats the best of `rivals`.
fn contest_claim(id: char, statement: &'static str, targets: &[Cell], rivals: &[Cell], no_rival: &str) -> Claim {
    match Contest::of(targets, rivals) {
        None => not_measured(id, statement, no_rival.to_string()),
        Some(contest) => Claim {
            id,
            statement,
            decision: decide(&contest.difference, Side::Above),
            estimate: Some(contest.difference),
            evidence: contest.text(),
        },
    }
}

/// (c) APO-down is the best objective on the off-policy judge data: on each off-policy
/// dataset (`judge_off_policy`, or `off_policy_ratings` which stands in for it), the best
/// `apo_down` cell against the best other cell there, as in (b); every such dataset must agree.
pub fn apo_down_best_off_policy(cells: &Cells) -> Claim {
    const S: &str = "APO-down is the best objective on the off-policy judge dataset";
    let mut parts = Vec::new();
    for d in cells.datasets(is_off_policy) {
        let here = cells.on_dataset(&d.name);
        if let Some(contest) = Contest::of(&of_kind(&here, &[ApoDown]), &not_of_kind(&here, &[ApoDown])) {
            parts.push((decide(&contest.difference, Side::Above), contest));
        }
    }
    if parts.is_empty() {
        let why = cells.why_absent(is_off_policy, "off-policy", ApoDown);
        return not_measured('c', S, why);
    }
    combined('c', S, &parts, all_of)
}

/// A claim made of one contest per dataset, combined by `rule`.
fn combined(
    id: char,
    statement: &'static str,
    parts: &[(Decision, Contest)],
    rule: fn(&[Decision]) -> Decision,
) -> Claim {
    let decisions: Vec<Decision> = parts.iter().map(|(d, _)| *d).collect();
    let evidence: Vec<String> = parts.iter().map(|(d, c)| format!("{}: {}", c.text(), d.verdict.label())).collect();
    Claim {
        id,
        statement,
        decision: rule(&decisions),
        estimate: (parts.len() == 1).then(|| parts[0].1.difference),
        evidence: evidence.join("; "),
    }
}

/// (d) Stronger-preferred data degrade the model: the Mean improvements of every objective on
/// `stronger_preferred` datasets, pooled over objectives and seeds; their mean's 95% interval
/// must lie below 0. One seed gives no interval (objectives are not seeds).
pub fn stronger_preferred_degrades(cells: &Cells) -> Claim {
    const S: &str = "Stronger-preferred data degrade the model (mean over its objectives of the Mean improvement < 0)";
    let here = cells.on(is_stronger_preferred);
    if here.is_empty() {
        let why = if cells.datasets(is_stronger_preferred).is_empty() {
            "the grid has no stronger_preferred dataset".to_string()
        } else {
            "no stronger_preferred cell has numbers yet".to_string()
        };
        return not_measured('d', S, why);
    }
    let values: Vec<f64> = here.iter().flat_map(|c| c.means()).collect();
    let seeds = here.iter().map(|c| c.row.per_seed.len()).max().unwrap_or(0);
    let pooled = Estimate::of_mean(&values);
    let estimate = if seeds >= 2 { pooled } else { Estimate { ci: None, ..pooled } };
    let evidence = match estimate.ci {
        Some(_) => format!(
            "Mean improvement pooled over {} objectives × up to {seeds} seeds ({} values): {}",
            here.len(),
            values.len(),
            estimate.text(2)
        ),
        None => {
            format!("Mean improvement over {} objectives: {} (one seed: no interval)", here.len(), estimate.text(2))
        }
    };
    Claim { id: 'd', statement: S, decision: decide(&estimate, Side::Below), estimate: Some(estimate), evidence }
}

/// (e) On-policy judge data beat off-policy judge data: the best `judge_on_policy` cell
/// against the best off-policy cell, as in (b).
pub fn on_policy_beats_off_policy(cells: &Cells) -> Claim {
    const S: &str = "On-policy judge data beat off-policy judge data (best cell against best cell)";
    let (on, off) = (cells.on(is_on_policy_judge), cells.on(is_off_policy));
    if on.is_empty() || off.is_empty() {
        let why = match (cells.datasets(is_on_policy_judge).is_empty(), cells.datasets(is_off_policy).is_empty()) {
            (true, _) => "the grid has no judge_on_policy dataset",
            (_, true) => "the grid has no off-policy dataset",
            _ => "the on- or the off-policy dataset has no numbers yet",
        };
        return not_measured('e', S, why.to_string());
    }
    contest_claim('e', S, &on, &off, "")
}

/// (f) Figure 4's directions: at the last evaluated epoch the held-out chosen (winning)
/// reward of every `apo_zero` cell lies above 0 and that of every `apo_down` cell below 0,
/// each by its 95% interval across seeds, on every dataset the grid has.
pub fn figure4_directions(cells: &Cells) -> Claim {
    const S: &str = "APO-zero raises the winners' likelihood and APO-down lowers it (Figure 4)";
    let mut decisions = Vec::new();
    let mut evidence = Vec::new();
    for c in cells.all.iter().filter(|c| matches!(c.kind(), ApoZero | ApoDown)) {
        let rewards = c.final_chosen_rewards();
        if rewards.is_empty() {
            continue;
        }
        let e = Estimate::of_mean(&rewards);
        let d = decide(&e, if c.kind() == ApoZero { Side::Above } else { Side::Below });
        decisions.push(d);
        evidence.push(format!("{} chosen reward {}: {}", c.name(), with_seeds(&e, 3), d.verdict.label()));
    }
    if decisions.is_empty() {
        let why = if !cells.plans(ApoZero) && !cells.plans(ApoDown) {
            "the grid has neither apo_zero nor apo_down"
        } else {
            "no apo_zero or apo_down cell has held-out rewards yet"
        };
        return not_measured('f', S, why.to_string());
    }
    let decision = all_of(&decisions);
    Claim { id: 'f', statement: S, decision, estimate: None, evidence: evidence.join("; ") }
}

/// Which of two cells' Mean improvements is higher by the difference `first - second`:
/// `Some(true)` the first, `Some(false)` the second, `None` within noise (or a tie of point
/// estimates); with whether a point estimate from one seed decided.
fn higher(difference: &Estimate) -> (Option<bool>, Basis) {
    match difference.side() {
        Some(Side::Above) => (Some(true), Basis::Interval),
        Some(Side::Below) => (Some(false), Basis::Interval),
        Some(Side::Contains) => (None, Basis::Interval),
        None if difference.value == 0.0 => (None, Basis::OneSeed),
        None => (Some(difference.value > 0.0), Basis::OneSeed),
    }
}

/// (g) The anchor rule: on each dataset with a winner-vs-model comparison (Table 1), the
/// best `apo_zero` cell against the best `apo_down` cell; where the difference's interval
/// excludes 0, the better one must be the anchor Table 1 suggests. Reproduced if every such
/// dataset agrees, within noise if none is outside noise.
pub fn anchor_rule(cells: &Cells) -> Claim {
    const S: &str = "The anchor rule: the anchor Table 1 suggests is the better of APO-zero and APO-down in Table 2";
    let mut decisions = Vec::new();
    let mut evidence = Vec::new();
    for d in cells.datasets(any_dataset) {
        let Some(w) = d.manifest.as_ref().and_then(|m| m.winner_vs_model.as_ref()) else { continue };
        let Some(suggested) = w.suggested.parse::<ObjectiveKind>().ok().filter(|k| matches!(k, ApoZero | ApoDown))
        else {
            continue;
        };
        let here = cells.on_dataset(&d.name);
        let Some(contest) = Contest::of(&of_kind(&here, &[ApoZero]), &of_kind(&here, &[ApoDown])) else { continue };
        let (zero_higher, basis) = higher(&contest.difference);
        let (verdict, found) = match zero_higher {
            None => (Verdict::WithinNoise, "within noise".to_string()),
            Some(z) => {
                let better = if z { ApoZero } else { ApoDown };
                let agrees = better == suggested;
                let verdict = if agrees { Verdict::Reproduced } else { Verdict::NotReproduced };
                (verdict, format!("{better} is better: {}", if agrees { "agrees" } else { "disagrees" }))
            }
        };
        decisions.push(Decision { verdict, basis });
        evidence.push(format!(
            "{} suggests {suggested} (winner > model {}%); apo_zero − apo_down {}: {found}",
            d.name,
            fixed(100.0 * w.fraction, 1),
            difference_text(&contest.difference)
        ));
    }
    if decisions.is_empty() {
        return not_measured(
            'g',
            S,
            "needs a dataset with a winner-vs-model comparison and numbers for both apo_zero and apo_down".into(),
        );
    }
    let decision = where_distinguishable(&decisions);
    Claim { id: 'g', statement: S, decision, estimate: None, evidence: evidence.join("; ") }
}

/// (h) APO-auto (the anchor chosen per pair) is at least as good as the better of APO-zero
/// and APO-down: on each dataset, the best `apo_auto` cell against the best `apo_zero` or
/// `apo_down` cell; reproduced if the difference's interval lies above 0, within noise if it
/// contains 0, not reproduced if below (one seed: reproduced if the difference is >= 0).
pub fn apo_auto_at_least_as_good(cells: &Cells) -> Claim {
    const S: &str = "APO-auto (anchor per pair) is at least as good as the better of APO-zero and APO-down";
    if !cells.plans(ApoAuto) {
        return not_measured('h', S, "the grid has no apo_auto objective".into());
    }
    let mut parts = Vec::new();
    for d in cells.datasets(any_dataset) {
        let here = cells.on_dataset(&d.name);
        if let Some(contest) = Contest::of(&of_kind(&here, &[ApoAuto]), &of_kind(&here, &[ApoZero, ApoDown])) {
            let mut decision = decide(&contest.difference, Side::Above);
            if decision.basis == Basis::OneSeed && contest.difference.value == 0.0 {
                decision.verdict = Verdict::Reproduced; // as good as
            }
            parts.push((decision, contest));
        }
    }
    if parts.is_empty() {
        return not_measured('h', S, "no dataset has numbers for apo_auto and for apo_zero or apo_down yet".into());
    }
    combined('h', S, &parts, all_of)
}
