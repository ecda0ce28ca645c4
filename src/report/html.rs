//! `report.html`: the whole report as one self-contained file to send to a colleague, as
//! Snakemake's `--report` does: Tables 1, 2, 4 and 5, the claims table (and every other
//! benchmark's Table 2) as sortable HTML tables with the Markdown's best cells marked, the figures as inline SVG, the
//! warnings, the grid file's text, the tool version and when the grid's tasks ran.
//!
//! Self-contained means no request at all when it is opened: no external script, style sheet,
//! font or image. The style and the sorting script ([`SCRIPT`], a few lines) are inline; the
//! figures are the SVG files `figures::render` made for the report folder, inlined. Sorting:
//! a click on a column header sorts by it (again: the other way round); numbers compare as
//! numbers (`+1.48`, `99.2%`, `-0.79 (0.93)` by their leading number), missing values (`–`)
//! last. A link may sort a table when the page opens: `report.html#sort=table2:2:desc` (table
//! id, 0-based column, optional `desc`).

use super::collect::{Collected, Timing};
use super::render::html_escape;
use super::{TABLES, claims, display_table, improvement};

/// What the page shows besides the collection.
pub struct Page<'a> {
    pub collected: &'a Collected,
    /// Every other benchmark's collection, by name (each gets a Table 2).
    pub others: &'a [(String, Collected)],
    /// `(name, svg)` of each figure, in report order.
    pub figures: &'a [(String, String)],
    /// The grid file's path and its text (or why it could not be read).
    pub grid_path: String,
    pub grid_text: Result<String, String>,
    /// The report's lines about diverged runs and unreadable artifacts.
    pub warnings: Vec<String>,
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:75rem;padding:0 1rem;color:#222;line-height:1.4}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin:2rem 0 .3rem}p.title{margin:.2rem 0;font-weight:600}p.note{margin:.2rem 0;color:#555;font-size:.9rem}\
p.meta{color:#555}nav a{margin-right:1rem}table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem;display:block;max-width:100%;overflow-x:auto}\
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd}th{cursor:pointer;background:#f4f4f4;user-select:none;white-space:nowrap}\
th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}\
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.text{text-align:left}td.best{background:#fff3c4}\
figure{margin:1rem 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.9rem;color:#555}\
pre{background:#f7f7f7;padding:1rem;overflow:auto;font-size:.85rem}ul.warnings li{color:#8a4b00}";

/// Sorts a table by a clicked header, or by `#sort=<table id>:<column>[:desc]` on load.
pub const SCRIPT: &str = r#"(function () {
  function key(row, col) {
    var text = row.cells[col].textContent.trim(), n = parseFloat(text.replace('+', ''));
    return isNaN(n) ? text : n;
  }
  function sort(th, descending) {
    var table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col), y = key(b, col), nx = typeof x === 'number', ny = typeof y === 'number';
      if (nx !== ny) return nx ? -1 : 1;
      var c = nx ? x - y : String(x).localeCompare(String(y));
      return descending ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
  }
  document.querySelectorAll('table.sortable th').forEach(function (th) {
    th.addEventListener('click', function () { sort(th, th.getAttribute('aria-sort') === 'ascending'); });
  });
  var m = /^#sort=([\w-]+):(\d+)(:desc)?$/.exec(location.hash);
  var th = m && document.querySelector('#' + m[1] + ' table.sortable thead th:nth-child(' + (+m[2] + 1) + ')');
  if (th) sort(th, !!m[3]);
})();"#;

/// The page.
pub fn page(p: &Page) -> String {
    let c = p.collected;
    let mut sections = Vec::new();
    let imp = improvement(c);
    for n in TABLES {
        if let Some(t) = display_table(c, &imp, n) {
            sections.push((format!("table{n}"), t));
        }
    }
    sections.push(("claims".to_string(), claims::table(&claims::claims(c))));
    for (name, other) in p.others {
        if let Some(mut t) = display_table(other, &improvement(other), 2) {
            t.name = format!("Table 2 ({name})");
            sections.push((format!("table2_{name}"), t));
        }
    }
    let mut body = String::new();
    let mut nav: Vec<String> = sections.iter().map(|(id, t)| link(id, &t.name)).collect();
    for (id, t) in &sections {
        body.push_str(&t.html(id));
    }
    if !p.figures.is_empty() {
        nav.push(link("figures", "Figures"));
        body.push_str("<section id=\"figures\">\n<h2>Figures</h2>\n");
        for (name, svg) in p.figures {
            let name = html_escape(name);
            body.push_str(&format!(
                "<figure id=\"fig-{name}\">\n{}\n<figcaption>{name}</figcaption>\n</figure>\n",
                inline_svg(svg)
            ));
        }
        body.push_str("</section>\n");
    }
    if !p.warnings.is_empty() {
        nav.push(link("warnings", "Warnings"));
        body.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n<ul class=\"warnings\">\n");
        for w in &p.warnings {
            body.push_str(&format!("<li>{}</li>\n", html_escape(w)));
        }
        body.push_str("</ul>\n</section>\n");
    }
    nav.push(link("grid-file", "Grid file"));
    let grid_text = match &p.grid_text {
        Ok(text) => format!("<pre>{}</pre>", html_escape(text)),
        Err(why) => format!("<p class=\"note\">(could not be read: {})</p>", html_escape(why)),
    };
    body.push_str(&format!(
        "<section id=\"grid-file\">\n<h2>Grid file</h2>\n<p class=\"note\"><code>{}</code></p>\n{grid_text}\n</section>\n",
        html_escape(&p.grid_path)
    ));
    let grid = html_escape(&c.grid);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>apogrid report: {grid}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<h1>Report of grid <code>{grid}</code></h1>\n<p class=\"meta\">{}</p>\n<nav>{}</nav>\n</header>\n\
         {body}<script>\n{SCRIPT}\n</script>\n</body>\n</html>\n",
        meta(c),
        nav.join(""),
    )
}

fn link(id: &str, text: &str) -> String {
    format!("<a href=\"#{}\">{}</a>", html_escape(id), html_escape(text))
}

/// The line under the title: tool version, benchmarks, and when the tasks ran.
fn meta(c: &Collected) -> String {
    let mut parts = vec![format!("apogrid {}", env!("CARGO_PKG_VERSION"))];
    if !c.benchmarks.is_empty() {
        let names: Vec<String> = c.benchmarks.iter().map(|b| format!("<code>{}</code>", html_escape(b))).collect();
        parts.push(format!("benchmarks {} (headline <code>{}</code>)", names.join(", "), html_escape(&c.benchmark)));
    }
    parts.push(match &c.timing {
        Some(t) => timing(t),
        None => "no task has finished yet".to_string(),
    });
    parts.join(" · ")
}

fn timing(t: &Timing) -> String {
    let d = |s: f64| humantime::format_duration(std::time::Duration::from_secs(s.round() as u64)).to_string();
    format!(
        "{} tasks done, from {} to {}: <strong>{} wall time</strong> ({} of task time)",
        t.tasks,
        html_escape(&t.first_started),
        html_escape(&t.last_finished),
        d(t.wall_s),
        d(t.task_s)
    )
}

/// An SVG file's root element, ready to inline (its XML declaration dropped).
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |at| &svg[at..]).trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table2::tests::{collected, run, unbuilt};

    fn sample() -> Collected {
        let mut c =
            collected(vec![0], vec![run("clair", "apo_zero", 0, &[41.0, 43.0]), run("clair", "dpo", 0, &[39.0])]);
        c.grid = "g<1>".into();
        c.datasets = vec![unbuilt("clair")];
        c.timing = Some(Timing {
            tasks: 7,
            first_started: "2026-11-30T08:00:00Z".into(),
            last_finished: "2026-11-30T08:17:10Z".into(),
            wall_s: 1030.0,
            task_s: 1800.0,
        });
        c
    }

    #[test]
    fn the_page_holds_every_table_figure_and_the_grid_and_fetches_nothing() {
        let c = sample();
        let figures = vec![(
            "scores_clair".to_string(),
            "<?xml version=\"1.0\"?>\n<svg width=\"10\"><line/></svg>\n".to_string(),
        )];
        let page = page(&Page {
            collected: &c,
            others: &[],
            figures: &figures,
            grid_path: "grids/g.toml".into(),
            grid_text: Ok("[grid]\nname = \"g<1>\"\n".into()),
            warnings: vec!["clair/dpo (seed 0): loss diverged".into()],
        });
        for id in ["table1", "table2", "table4", "claims", "figures", "warnings", "grid-file"] {
            assert!(page.contains(&format!("<section id=\"{id}\">")), "{id} missing");
        }
        assert!(!page.contains("id=\"table5\""), "no unpaired objective, no Table 5");
        assert!(page.contains("<figure id=\"fig-scores_clair\">\n<svg width=\"10\"><line/></svg>\n"), "{page}");
        assert!(!page.contains("<?xml"));
        assert!(page.contains("<pre>[grid]\nname = &quot;g&lt;1&gt;&quot;\n</pre>"));
        assert!(page.contains("<title>apogrid report: g&lt;1&gt;</title>"));
        assert!(
            page.contains("17m 10s wall time") && page.contains("30m of task time") && page.contains("7 tasks done")
        );
        assert!(page.contains(&format!("apogrid {}", env!("CARGO_PKG_VERSION"))));
        // Table 2's best cell (apo_zero's Max) is marked as in Markdown.
        assert!(page.contains("<td class=\"text best\"><strong>apo_zero</strong></td>"), "{page}");
        // Nothing that would be fetched: no src or external href, no link or import.
        for forbidden in ["src=", "<link", "@import", "url(", "href=\"http", "//cdn"] {
            assert!(!page.contains(forbidden), "{forbidden}");
        }
    }

    #[test]
    fn other_benchmarks_get_their_table_2_and_an_unreadable_grid_is_said() {
        let c = sample();
        let others = vec![("mmlu".to_string(), sample())];
        let page = page(&Page {
            collected: &c,
            others: &others,
            figures: &[],
            grid_path: "gone.toml".into(),
            grid_text: Err("No such file".into()),
            warnings: vec![],
        });
        assert!(page.contains("<section id=\"table2_mmlu\">\n<h2>Table 2 (mmlu).</h2>"), "{page}");
        assert!(page.contains("(could not be read: No such file)"));
        assert!(!page.contains("id=\"figures\"") && !page.contains("id=\"warnings\""));
    }
}
