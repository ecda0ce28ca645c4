//! Each rule on hand-made grids where the answer is known: one that holds, one that does not,
//! one within noise where the rule has intervals, and the grid that cannot tell.

use super::cells::Cells;
use super::rules::*;
use super::verdict::{Basis, Verdict};
use super::*;
use crate::data::builders::{BuilderKind, DatasetKind};
use crate::report::collect::{ContrastNumbers, DatasetInfo, DatasetNumbers, FilterNumbers, RunData, WinnerNumbers};
use crate::report::table2::improvement;
use crate::report::table2::tests::{collected, heldout, run};

/// A built dataset of `builder` with Table 1's numbers.
fn dataset(name: &str, builder: BuilderKind, jaccard: f64, levenshtein: f64, suggested: Option<&str>) -> DatasetInfo {
    DatasetInfo {
        name: name.into(),
        kind: DatasetKind::Build(builder),
        manifest: Some(DatasetNumbers {
            builder: builder.as_str().into(),
            train: 10,
            heldout: 4,
            filters: FilterNumbers::default(),
            contrast: ContrastNumbers { pairs: 14, mean_jaccard: jaccard, mean_levenshtein: levenshtein },
            winner_vs_model: suggested.map(|s| WinnerNumbers {
                compared: 10,
                winner_better: if s == "apo_zero" { 8 } else { 2 },
                model_better: if s == "apo_zero" { 2 } else { 8 },
                ties: 0,
                fraction: if s == "apo_zero" { 0.8 } else { 0.2 },
                model_fraction: None,
                suggested: s.into(),
            }),
        }),
    }
}

/// The paper's four datasets (CLAIR the most contrastive), named as in the tiny grid.
fn four() -> Vec<DatasetInfo> {
    vec![
        dataset("clair", BuilderKind::Clair, 58.7, 9.4, Some("apo_zero")),
        dataset("onp", BuilderKind::JudgeOnPolicy, 48.4, 12.5, Some("apo_zero")),
        dataset("offp", BuilderKind::JudgeOffPolicy, 6.8, 20.2, Some("apo_down")),
        dataset("strong", BuilderKind::StrongerPreferred, 9.4, 63.7, Some("apo_zero")),
    ]
}

/// A cell whose seeds' Mean improvements are `means` (flat runs against the base score 40),
/// seeds 0, 1, ...
fn cell(dataset: &str, objective: &str, means: &[f64]) -> Vec<RunData> {
    means.iter().enumerate().map(|(seed, m)| run(dataset, objective, seed as u64, &[40.0 + m; 3])).collect()
}

/// `cell` with each seed's final held-out chosen reward.
fn cell_with_rewards(dataset: &str, objective: &str, means: &[f64], chosen: &[f64]) -> Vec<RunData> {
    let mut runs = cell(dataset, objective, means);
    for (r, c) in runs.iter_mut().zip(chosen) {
        r.evals.last_mut().unwrap().heldout = Some(heldout(*c, -0.5));
    }
    runs
}

fn grid(datasets: Vec<DatasetInfo>, cells: Vec<Vec<RunData>>) -> Collected {
    let runs: Vec<RunData> = cells.into_iter().flatten().collect();
    let seeds = runs.iter().map(|r| r.seed).max().map_or(vec![0], |m| (0..=m).collect());
    let mut c = collected(seeds, runs);
    c.datasets = datasets;
    c
}

fn judge(c: &Collected, rule: fn(&Cells) -> Claim) -> Claim {
    let imp = improvement(c);
    rule(&Cells::new(c, &imp))
}

fn verdict(c: &Collected, rule: fn(&Cells) -> Claim) -> (Verdict, Basis) {
    let claim = judge(c, rule);
    (claim.decision.verdict, claim.decision.basis)
}

const R: Verdict = Verdict::Reproduced;
const N: Verdict = Verdict::NotReproduced;
const W: Verdict = Verdict::WithinNoise;
const M: Verdict = Verdict::NotMeasured;
const I: Basis = Basis::Interval;
const ONE: Basis = Basis::OneSeed;

#[test]
fn a_clair_is_the_most_contrastive_dataset() {
    let c = grid(four(), vec![]);
    let claim = judge(&c, clair_most_contrastive);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (R, Basis::Exact));
    assert!(claim.evidence.contains("clair Jaccard 58.70%, Levenshtein 9.4"), "{}", claim.evidence);
    assert!(claim.evidence.contains("highest other Jaccard: onp 48.40%"), "{}", claim.evidence);
    // Another dataset with a lower edit distance breaks it, whatever the Jaccard says.
    let mut d = four();
    d[1] = dataset("onp", BuilderKind::JudgeOnPolicy, 48.4, 8.0, None);
    assert_eq!(verdict(&grid(d, vec![]), clair_most_contrastive).0, N);
    // Matched by builder: a CLAIR dataset named otherwise is still CLAIR.
    let mut d = four();
    d[0].name = "revised".into();
    assert_eq!(verdict(&grid(d, vec![]), clair_most_contrastive).0, R);
    // No CLAIR, or CLAIR not built yet.
    assert_eq!(verdict(&grid(four()[1..].to_vec(), vec![]), clair_most_contrastive).0, M);
    let mut d = four();
    d[0].manifest = None;
    let claim = judge(&grid(d, vec![]), clair_most_contrastive);
    assert_eq!(claim.decision.verdict, M);
    assert!(claim.evidence.contains("built"), "{}", claim.evidence);
}

#[test]
fn b_clair_apo_zero_is_the_best_cell() {
    let clear = grid(
        four(),
        vec![
            cell("clair", "apo_zero", &[3.0, 3.2, 2.8]),
            cell("clair", "dpo", &[1.0, 1.2, 0.8]),
            cell("offp", "apo_down", &[0.0, 0.5, -0.5]),
        ],
    );
    let claim = judge(&clear, clair_apo_zero_best_cell);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (R, I));
    // Difference 2.0 with Welch's interval: both sides sd 0.2, n 3: se 0.1633, df 4,
    // half-width 2.776445 · 0.163299 = 0.453391.
    let e = claim.estimate.unwrap();
    assert!((e.value - 2.0).abs() < 1e-12);
    assert!((e.half_width().unwrap() - 0.453_391).abs() < 1e-5, "{e:?}");
    assert!(claim.evidence.contains("clair × apo_zero Mean +3.00 [") && claim.evidence.contains("(Welch)"));
    assert!(claim.evidence.contains("vs clair × dpo Mean +1.00"), "the runner-up: {}", claim.evidence);
    // Ahead on average but not beyond noise.
    let noisy =
        grid(four(), vec![cell("clair", "apo_zero", &[3.0, -1.0, 2.0]), cell("clair", "dpo", &[1.0, 1.5, 0.5])]);
    assert_eq!(verdict(&noisy, clair_apo_zero_best_cell), (W, I));
    // Another cell clearly better.
    let beaten =
        grid(four(), vec![cell("clair", "apo_zero", &[1.0, 1.1, 0.9]), cell("strong", "dpo", &[3.0, 3.1, 2.9])]);
    assert_eq!(verdict(&beaten, clair_apo_zero_best_cell), (N, I));
    // One seed: the point estimate decides, marked as such.
    let one = grid(four(), vec![cell("clair", "apo_zero", &[2.0]), cell("clair", "dpo", &[1.0])]);
    let claim = judge(&one, clair_apo_zero_best_cell);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (R, ONE));
    assert_eq!(claim.decision.label(), "reproduced (one seed)");
    assert!(claim.evidence.contains("one seed: no interval"), "{}", claim.evidence);
    // Matched by kind: an apo_zero objective the grid calls `zero`.
    let mut renamed = cell("clair", "apo_zero", &[3.0, 3.2, 2.8]);
    renamed.iter_mut().for_each(|r| r.objective = "zero".into());
    let named = grid(four(), vec![renamed, cell("clair", "dpo", &[1.0, 1.2, 0.8])]);
    assert_eq!(verdict(&named, clair_apo_zero_best_cell), (R, I));
    // No apo_zero objective.
    let claim = judge(&grid(four(), vec![cell("clair", "dpo", &[1.0])]), clair_apo_zero_best_cell);
    assert_eq!(claim.decision.verdict, M);
    assert!(claim.evidence.contains("no apo_zero objective"), "{}", claim.evidence);
}

#[test]
fn c_apo_down_is_the_best_objective_off_policy() {
    let holds = grid(
        four(),
        vec![
            cell("offp", "apo_down", &[2.0, 2.2, 1.8]),
            cell("offp", "apo_zero", &[-1.0, -0.8, -1.2]),
            // Better cells elsewhere do not count.
            cell("clair", "dpo", &[5.0, 5.0, 5.0]),
        ],
    );
    assert_eq!(verdict(&holds, apo_down_best_off_policy), (R, I));
    let fails =
        grid(four(), vec![cell("offp", "apo_down", &[-1.0, -0.8, -1.2]), cell("offp", "dpo", &[2.0, 2.2, 1.8])]);
    assert_eq!(verdict(&fails, apo_down_best_off_policy), (N, I));
    // The ratings-based off-policy dataset stands in for the judged one.
    let mut d = four();
    d[2].kind = DatasetKind::Build(BuilderKind::OffPolicyRatings);
    let ratings = grid(d, vec![cell("offp", "apo_down", &[2.0, 2.2, 1.8]), cell("offp", "dpo", &[0.0, 0.1, -0.1])]);
    assert_eq!(verdict(&ratings, apo_down_best_off_policy), (R, I));
    assert_eq!(verdict(&grid(four()[..2].to_vec(), vec![]), apo_down_best_off_policy).0, M);
}

#[test]
fn d_stronger_preferred_degrades_the_model() {
    let degrades =
        grid(four(), vec![cell("strong", "dpo", &[-1.0, -1.5, -0.5]), cell("strong", "apo_zero", &[-2.0, -2.5, -1.5])]);
    let claim = judge(&degrades, stronger_preferred_degrades);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (R, I));
    // Pooled: six values, mean -1.5.
    let e = claim.estimate.unwrap();
    assert_eq!((e.value, e.n), (-1.5, 6));
    assert!(claim.evidence.contains("2 objectives × up to 3 seeds (6 values)"), "{}", claim.evidence);
    let improves = grid(four(), vec![cell("strong", "dpo", &[1.0, 1.5, 0.5]), cell("strong", "sft", &[2.0, 2.5, 1.5])]);
    assert_eq!(verdict(&improves, stronger_preferred_degrades), (N, I));
    let mixed = grid(four(), vec![cell("strong", "dpo", &[1.0, 1.5, 0.5]), cell("strong", "sft", &[-2.0, -2.5, -1.5])]);
    assert_eq!(verdict(&mixed, stronger_preferred_degrades), (W, I));
    // One seed: two objectives are not two seeds, so no interval.
    let one = grid(four(), vec![cell("strong", "dpo", &[-1.0]), cell("strong", "sft", &[-3.0])]);
    let claim = judge(&one, stronger_preferred_degrades);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (R, ONE));
    assert!(claim.estimate.unwrap().ci.is_none() && claim.evidence.contains("one seed: no interval"));
    assert_eq!(verdict(&grid(four()[..3].to_vec(), vec![]), stronger_preferred_degrades).0, M);
}

#[test]
fn e_on_policy_beats_off_policy() {
    let holds = grid(
        four(),
        vec![
            cell("onp", "dpo", &[2.0, 2.2, 1.8]),
            cell("onp", "sft", &[0.0, 0.1, 0.2]),
            cell("offp", "apo_down", &[0.5, 0.6, 0.4]),
        ],
    );
    let claim = judge(&holds, on_policy_beats_off_policy);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (R, I));
    assert!(claim.evidence.starts_with("onp × dpo Mean +2.00"), "{}", claim.evidence);
    let fails = grid(four(), vec![cell("onp", "dpo", &[0.0, 0.1, -0.1]), cell("offp", "dpo", &[2.0, 2.2, 1.8])]);
    assert_eq!(verdict(&fails, on_policy_beats_off_policy), (N, I));
    let onp_only = grid(four(), vec![cell("onp", "dpo", &[1.0])]);
    assert_eq!(verdict(&onp_only, on_policy_beats_off_policy).0, M);
}

#[test]
fn f_figure4_directions_per_anchor() {
    let holds = grid(
        four(),
        vec![
            cell_with_rewards("clair", "apo_zero", &[0.0; 3], &[0.3, 0.4, 0.35]),
            cell_with_rewards("clair", "apo_down", &[0.0; 3], &[-0.3, -0.4, -0.35]),
            // Other objectives are not part of the claim.
            cell_with_rewards("clair", "dpo", &[0.0; 3], &[-5.0, -5.0, -5.0]),
        ],
    );
    let claim = judge(&holds, figure4_directions);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (R, I));
    assert!(claim.evidence.contains("clair × apo_zero chosen reward +0.350 ["), "{}", claim.evidence);
    let wrong = grid(
        four(),
        vec![
            cell_with_rewards("clair", "apo_zero", &[0.0; 3], &[0.3, 0.4, 0.35]),
            cell_with_rewards("offp", "apo_down", &[0.0; 3], &[0.3, 0.4, 0.35]),
        ],
    );
    assert_eq!(verdict(&wrong, figure4_directions), (N, I));
    let noisy = grid(four(), vec![cell_with_rewards("clair", "apo_zero", &[0.0; 3], &[0.3, -0.4, 0.2])]);
    assert_eq!(verdict(&noisy, figure4_directions), (W, I));
    // Runs without held-out numbers cannot tell.
    assert_eq!(verdict(&grid(four(), vec![cell("clair", "apo_zero", &[1.0])]), figure4_directions).0, M);
}

#[test]
fn g_the_suggested_anchor_is_the_better_one_where_seeds_can_tell() {
    // offp suggests apo_down and apo_down is clearly better; clair's difference is noise.
    let agrees = grid(
        four(),
        vec![
            cell("offp", "apo_down", &[2.0, 2.2, 1.8]),
            cell("offp", "apo_zero", &[0.0, 0.2, -0.2]),
            cell("clair", "apo_zero", &[1.0, -1.0, 0.5]),
            cell("clair", "apo_down", &[0.0, 0.5, 0.2]),
        ],
    );
    let claim = judge(&agrees, anchor_rule);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (R, I));
    assert!(claim.evidence.contains("offp suggests apo_down (winner > model 20.0%)"), "{}", claim.evidence);
    assert!(claim.evidence.contains("apo_down is better: agrees") && claim.evidence.contains("within noise"));
    // clair suggests apo_zero but apo_down is clearly better there.
    let disagrees = grid(
        four(),
        vec![
            cell("offp", "apo_down", &[2.0, 2.2, 1.8]),
            cell("offp", "apo_zero", &[0.0, 0.2, -0.2]),
            cell("clair", "apo_zero", &[-1.0, -1.1, -0.9]),
            cell("clair", "apo_down", &[1.0, 1.1, 0.9]),
        ],
    );
    assert_eq!(verdict(&disagrees, anchor_rule), (N, I));
    let noise =
        grid(four(), vec![cell("clair", "apo_zero", &[1.0, -1.0, 0.5]), cell("clair", "apo_down", &[0.0, 0.5, 0.2])]);
    assert_eq!(verdict(&noise, anchor_rule), (W, I));
    // Without a winner-vs-model comparison the dataset is not part of the claim.
    let mut d = four();
    d[0].manifest.as_mut().unwrap().winner_vs_model = None;
    let none = grid(d, vec![cell("clair", "apo_zero", &[1.0]), cell("clair", "apo_down", &[0.0])]);
    assert_eq!(verdict(&none, anchor_rule).0, M);
    let one = grid(four(), vec![cell("clair", "apo_zero", &[1.0]), cell("clair", "apo_down", &[0.0])]);
    assert_eq!(verdict(&one, anchor_rule), (R, ONE));
}

#[test]
fn h_apo_auto_against_the_better_anchor() {
    assert_eq!(verdict(&grid(four(), vec![cell("clair", "apo_zero", &[1.0])]), apo_auto_at_least_as_good).0, M);
    let level = grid(
        four(),
        vec![
            cell("clair", "apo_auto", &[1.0, 1.5, 0.5]),
            cell("clair", "apo_zero", &[1.2, 1.0, 0.8]),
            cell("clair", "apo_down", &[-1.0, -1.0, -1.0]),
        ],
    );
    let claim = judge(&level, apo_auto_at_least_as_good);
    assert_eq!((claim.decision.verdict, claim.decision.basis), (W, I));
    assert!(claim.evidence.contains("vs clair × apo_zero"), "compared with the better anchor: {}", claim.evidence);
    let worse =
        grid(four(), vec![cell("clair", "apo_auto", &[-1.0, -1.1, -0.9]), cell("clair", "apo_down", &[1.0, 1.1, 0.9])]);
    assert_eq!(verdict(&worse, apo_auto_at_least_as_good), (N, I));
    let better =
        grid(four(), vec![cell("clair", "apo_auto", &[2.0, 2.1, 1.9]), cell("clair", "apo_down", &[1.0, 1.1, 0.9])]);
    assert_eq!(verdict(&better, apo_auto_at_least_as_good), (R, I));
    let tie = grid(four(), vec![cell("clair", "apo_auto", &[1.0]), cell("clair", "apo_zero", &[1.0])]);
    assert_eq!(verdict(&tie, apo_auto_at_least_as_good), (R, ONE));
}

#[test]
fn the_table_and_csv_hold_every_claim_in_order() {
    let c = grid(four(), vec![cell("clair", "apo_zero", &[3.0, 3.2, 2.8]), cell("clair", "dpo", &[1.0, 1.2, 0.8])]);
    let all = claims(&c);
    let ids: String = all.iter().map(|c| c.id).collect();
    assert_eq!(ids, "abcdefgh");
    let md = table(&all).markdown();
    assert!(md.starts_with("**Claims.**"));
    assert!(md.contains("Welch") && md.contains("biased upward") && md.contains("(g) per dataset"), "{md}");
    assert!(md.lines().any(|l| l.starts_with("| b ") && l.contains("| reproduced ")), "{md}");
    let text = csv(&all).unwrap();
    assert_eq!(text.lines().next().unwrap(), CSV_COLUMNS.join(","));
    let mut r = ::csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<::csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8);
    assert_eq!((&rows[0][0], &rows[0][2], &rows[0][3], &rows[0][4]), ("a", "reproduced", "exact", ""));
    assert_eq!((&rows[1][2], &rows[1][3], &rows[1][7]), ("reproduced", "ci95", "3"));
    assert!((rows[1][4].parse::<f64>().unwrap() - 2.0).abs() < 1e-9);
    assert!(rows[1][5].parse::<f64>().unwrap() > 1.5 && rows[1][6].parse::<f64>().unwrap() < 2.5);
    assert_eq!((&rows[7][2], &rows[7][3]), ("not_measured", "none"));
    // Nothing at all: every claim is not measured, nothing panics.
    assert!(claims(&Collected::default()).iter().all(|c| c.decision.verdict == Verdict::NotMeasured));
}
