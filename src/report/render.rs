//! One display table, four renderings: Markdown (padded so it also reads in a terminal),
//! LaTeX (booktabs), HTML (for `report.html`) and CSV text. The tables' modules decide what goes in the cells; CSV files
//! carry raw numbers in their own columns (see each table), not these display strings.

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One cell; `bold` marks a best value (`**x**` in Markdown, `\textbf{x}` in LaTeX).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub bold: bool,
}

impl Cell {
    pub fn new(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), bold: false }
    }
    pub fn bold(text: impl Into<String>, bold: bool) -> Cell {
        Cell { text: text.into(), bold }
    }
}

/// A table for display.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// E.g. `Table 2`.
    pub name: String,
    /// One sentence after the name; the LaTeX caption starts with it.
    pub title: String,
    /// Lines printed between title and table (base score, conventions); part of the caption.
    pub notes: Vec<String>,
    pub header: Vec<String>,
    pub align: Vec<Align>,
    pub rows: Vec<Vec<Cell>>,
    /// LaTeX label, e.g. `tab:improvement`.
    pub label: String,
}

/// The placeholder for a number that does not exist (yet).
pub const MISSING: &str = "–";

/// What an empty table says instead of rows.
const NO_ROWS: &str = "(no rows yet: nothing this table needs is in the store)";

impl Table {
    /// GitHub Markdown, columns padded to equal width.
    pub fn markdown(&self) -> String {
        let cell = |c: &Cell| if c.bold && !c.text.is_empty() { format!("**{}**", c.text) } else { c.text.clone() };
        let rows: Vec<Vec<String>> = self.rows.iter().map(|r| r.iter().map(cell).collect()).collect();
        let mut width: Vec<usize> = self.header.iter().map(|h| h.chars().count().max(3)).collect();
        for r in &rows {
            for (i, c) in r.iter().enumerate().take(width.len()) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let pad = |text: &str, i: usize| {
            let fill = " ".repeat(width[i].saturating_sub(text.chars().count()));
            if self.align.get(i) == Some(&Align::Right) { format!("{fill}{text}") } else { format!("{text}{fill}") }
        };
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut out = format!("**{}.** {}\n\n", self.name, self.title);
        for n in &self.notes {
            out.push_str(n);
            out.push('\n');
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        out.push_str(&line(self.header.iter().enumerate().map(|(i, h)| pad(h, i)).collect()));
        out.push_str(&line(
            width
                .iter()
                .enumerate()
                .map(|(i, w)| match self.align.get(i) {
                    Some(Align::Right) => format!("{}:", "-".repeat(w - 1)),
                    _ => format!(":{}", "-".repeat(w - 1)),
                })
                .collect(),
        ));
        for r in &rows {
            out.push_str(&line((0..width.len()).map(|i| pad(r.get(i).map(String::as_str).unwrap_or(""), i)).collect()));
        }
        if rows.is_empty() {
            out.push_str(&format!("\n{NO_ROWS}\n"));
        }
        out
    }

    /// A `<section id="{id}">` with the name, title and notes, and a `<table class="sortable">`
    /// whose best cells are `<td class="best"><strong>` (the Markdown's bold). Sorting is the
    /// page's script; right-aligned columns are `class="num"`.
    pub fn html(&self, id: &str) -> String {
        let class = |i: usize| if self.align.get(i) == Some(&Align::Right) { "num" } else { "text" };
        let mut out = format!("<section id=\"{}\">\n", html_escape(id));
        out.push_str(&format!(
            "<h2>{}.</h2>\n<p class=\"title\">{}</p>\n",
            html_escape(&self.name),
            html_escape(&self.title)
        ));
        for n in &self.notes {
            out.push_str(&format!("<p class=\"note\">{}</p>\n", html_escape(n)));
        }
        if self.rows.is_empty() {
            out.push_str(&format!("<p class=\"empty\">{}</p>\n</section>\n", html_escape(NO_ROWS)));
            return out;
        }
        out.push_str("<table class=\"sortable\">\n<thead><tr>");
        for (i, h) in self.header.iter().enumerate() {
            out.push_str(&format!("<th class=\"{}\" title=\"sort\">{}</th>", class(i), html_escape(h)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for r in &self.rows {
            out.push_str("<tr>");
            for i in 0..self.header.len() {
                let cell = r.get(i).cloned().unwrap_or_else(|| Cell::new(""));
                let text = html_escape(&cell.text);
                if cell.bold && !cell.text.is_empty() {
                    out.push_str(&format!("<td class=\"{} best\"><strong>{text}</strong></td>", class(i)));
                } else {
                    out.push_str(&format!("<td class=\"{}\">{text}</td>", class(i)));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
        out
    }

    /// A booktabs `table` environment; notes go into the caption.
    pub fn latex(&self) -> String {
        let spec: String = self.align.iter().map(|a| if *a == Align::Right { 'r' } else { 'l' }).collect();
        let mut caption = latex_escape(&self.title);
        for n in &self.notes {
            caption.push(' ');
            caption.push_str(&latex_escape(n));
        }
        let mut out = String::new();
        out.push_str("% Generated by apogrid; needs \\usepackage{booktabs}.\n");
        out.push_str("\\begin{table}[t]\n\\centering\n\\small\n");
        out.push_str(&format!("\\caption{{{caption}}}\n\\label{{{}}}\n", self.label));
        out.push_str(&format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n"));
        let header: Vec<String> = self.header.iter().map(|h| latex_escape(h)).collect();
        out.push_str(&format!("{} \\\\\n\\midrule\n", header.join(" & ")));
        for r in &self.rows {
            let cells: Vec<String> = r
                .iter()
                .map(|c| {
                    let t = latex_escape(&c.text);
                    if c.bold && !t.is_empty() { format!("\\textbf{{{t}}}") } else { t }
                })
                .collect();
            out.push_str(&format!("{} \\\\\n", cells.join(" & ")));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n\\end{table}\n");
        out
    }
}

/// Escapes LaTeX's special characters; `±` becomes `$\pm$`, the missing-value dash `--`, and
/// the few other symbols the captions use (`·`, `√`, `β`, `≥`) math-mode commands, which
/// pdflatex's default input encoding lacks.
pub fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '±' => out.push_str("$\\pm$"),
            '–' => out.push_str("--"),
            '≥' => out.push_str("$\\geq$"),
            '·' => out.push_str("$\\cdot$"),
            '√' => out.push_str("$\\surd$"),
            'β' => out.push_str("$\\beta$"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// CSV text with a header line (RFC 4180 quoting by the `csv` crate).
pub fn csv_text(header: &[String], rows: &[Vec<String>]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    let bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `+3.00`, `-1.25`; the missing-value dash for NaN.
pub fn signed(x: f64, decimals: usize) -> String {
    if x.is_nan() { MISSING.to_string() } else { format!("{x:+.decimals$}") }
}

/// `3.00`; the missing-value dash for NaN.
pub fn fixed(x: f64, decimals: usize) -> String {
    if x.is_nan() { MISSING.to_string() } else { format!("{x:.decimals$}") }
}

/// A raw number for CSV: full precision, empty for NaN.
pub fn raw(x: f64) -> String {
    if x.is_nan() { String::new() } else { format!("{x}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            name: "Table 9".into(),
            title: "A test.".into(),
            notes: vec!["Base 40.00%.".into()],
            header: vec!["Dataset".into(), "Max".into()],
            align: vec![Align::Left, Align::Right],
            rows: vec![
                vec![Cell::new("clair_x"), Cell::bold("+3.00 ± 0.50", true)],
                vec![Cell::new("b"), Cell::new("-1.00")],
            ],
            label: "tab:t".into(),
        }
    }

    #[test]
    fn markdown_pads_columns_and_bolds_the_marked_cell() {
        let md = table().markdown();
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines[0], "**Table 9.** A test.");
        assert_eq!(lines[2], "Base 40.00%.");
        assert_eq!(lines[4], "| Dataset |              Max |");
        assert_eq!(lines[5], "| :------ | ---------------: |");
        assert_eq!(lines[6], "| clair_x | **+3.00 ± 0.50** |");
        assert_eq!(lines[7], "| b       |            -1.00 |");
    }

    #[test]
    fn latex_uses_booktabs_escapes_and_bolds() {
        let tex = table().latex();
        assert!(tex.contains("\\toprule") && tex.contains("\\midrule") && tex.contains("\\bottomrule"));
        assert!(tex.contains("\\begin{tabular}{lr}"));
        assert!(tex.contains("clair\\_x & \\textbf{+3.00 $\\pm$ 0.50} \\\\"));
        assert!(tex.contains("\\caption{A test. Base 40.00\\%.}"));
        assert_eq!(latex_escape("β·sd/√n ≥ 1"), "$\\beta$$\\cdot$sd/$\\surd$n $\\geq$ 1");
    }

    #[test]
    fn html_marks_best_cells_aligns_numbers_and_escapes() {
        let mut t = table();
        t.rows.push(vec![Cell::new("<a&b>")]);
        let html = t.html("table9");
        assert!(html.starts_with("<section id=\"table9\">\n<h2>Table 9.</h2>"), "{html}");
        assert!(
            html.contains("<th class=\"text\" title=\"sort\">Dataset</th><th class=\"num\" title=\"sort\">Max</th>")
        );
        assert!(html.contains("<td class=\"num best\"><strong>+3.00 ± 0.50</strong></td>"), "{html}");
        assert!(html.contains("<td class=\"num\">-1.00</td>"));
        // A short row is padded to the header's width; text is escaped.
        assert!(html.contains("<tr><td class=\"text\">&lt;a&amp;b&gt;</td><td class=\"num\"></td></tr>"), "{html}");
        let empty = Table { rows: vec![], ..table() }.html("t");
        assert!(empty.contains("no rows yet") && !empty.contains("<table"));
    }

    #[test]
    fn csv_quotes_and_numbers_format() {
        let text =
            csv_text(&["a".into(), "b".into()], &[vec!["x,y".into(), raw(0.5)], vec!["z".into(), raw(f64::NAN)]])
                .unwrap();
        assert_eq!(text, "a,b\n\"x,y\",0.5\nz,\n");
        assert_eq!(
            (signed(3.0, 2), signed(-1.0, 1), signed(f64::NAN, 2)),
            ("+3.00".into(), "-1.0".into(), MISSING.to_string())
        );
    }
}
