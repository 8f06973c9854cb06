//! `support-plans readiness` (SPEC §6, §15): the figures `GET /readiness`
//! answers, as lines for a terminal and as a chart an operations lead opens
//! in a browser: one bar per figure, red where it is a gap, amber where one
//! is coming, green where there is none. The SVG is written by hand (a
//! fixed size, every text escaped): no drawing crate for a dozen bars.

use std::fmt::Write as _;

use serde_json::Value;

/// How a figure reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A gap (red): something not covered, overdue, lapsed, unreached.
    Gap,
    /// Coming due (amber): not a gap yet.
    Soon,
    /// A gap figure that is zero (green).
    Clear,
    /// A count with no judgement (grey).
    Count,
}

impl Mark {
    fn colour(self) -> &'static str {
        match self {
            Self::Gap => "#c62828",
            Self::Soon => "#ef8f00",
            Self::Clear => "#2e7d32",
            Self::Count => "#546e7a",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Gap => "gap",
            Self::Soon => "soon",
            Self::Clear => "ok",
            Self::Count => "",
        }
    }
}

/// One figure, as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The answer's field.
    pub key: &'static str,
    pub label: &'static str,
    pub value: u64,
    /// The whole it is a part of (workloads, contacts, plans), shown as
    /// `N of WHOLE`; the bar is the share.
    pub of: Option<u64>,
    /// What the bar is measured against when there is no whole.
    pub scale: u64,
    pub mark: Mark,
}

/// The figures of one answer, grouped as the chart shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    pub as_of: String,
    pub window_days: u64,
    pub workloads: u64,
    pub plans: u64,
    pub contacts: u64,
    /// `None` without contacts.
    pub fresh_percent: Option<f64>,
    pub gaps: Vec<Figure>,
    pub activity: Vec<Figure>,
}

/// Contacts fresh: green at 100 %, amber from 80 %, red below.
pub fn fresh_mark(percent: Option<f64>) -> Mark {
    match percent {
        None => Mark::Count,
        Some(p) if p >= 100.0 => Mark::Clear,
        Some(p) if p >= 80.0 => Mark::Soon,
        Some(_) => Mark::Gap,
    }
}

impl Readiness {
    /// From `GET /readiness`'s answer; every SPEC §6 figure must be there.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let count = |key: &str| {
            v.get(key).and_then(Value::as_u64).ok_or_else(|| {
                format!(
                    "the answer of GET /readiness has no figure {key}: is the API older than this command?"
                )
            })
        };
        let as_of = v
            .get("as_of")
            .and_then(Value::as_str)
            .ok_or("the answer of GET /readiness has no as_of")?
            .to_owned();
        let fresh_percent = match v.get("contacts_fresh_percent") {
            None | Some(Value::Null) => None,
            Some(p) => Some(
                p.as_f64()
                    .ok_or_else(|| format!("contacts_fresh_percent is not a number: {p}"))?,
            ),
        };
        let (workloads, plans, contacts) = (count("workloads")?, count("plans")?, count("contacts")?);
        let gap = |key: &'static str, label: &'static str, of: Option<u64>, scale: u64| {
            count(key).map(|value| Figure {
                key,
                label,
                value,
                of,
                scale,
                mark: if value > 0 { Mark::Gap } else { Mark::Clear },
            })
        };
        let mut renewing = gap(
            "contracts_renewing",
            "Contracts renewing within 60 days",
            Some(plans),
            plans,
        )?;
        if renewing.value > 0 {
            renewing.mark = Mark::Soon;
        }
        let gaps = vec![
            gap(
                "workloads_without_active_plan",
                "Workloads without an active plan",
                Some(workloads),
                workloads,
            )?,
            gap(
                "tier1_workloads_without_24x7",
                "Tier-1 workloads without a 24x7 channel",
                Some(workloads),
                workloads,
            )?,
            gap(
                "contacts_overdue",
                "Contacts overdue for verification",
                Some(contacts),
                contacts,
            )?,
            // Owners are not counted on their own; each plan names one.
            gap(
                "owners_unreachable",
                "Plan owners reminders do not reach",
                None,
                plans,
            )?,
            gap("plans_due_for_review", "Plans due for review", Some(plans), plans)?,
            gap("contracts_lapsed", "Contracts lapsed", Some(plans), plans)?,
            renewing,
        ];
        let counted = |key: &'static str, label: &'static str| {
            count(key).map(|value| Figure {
                key,
                label,
                value,
                of: None,
                scale: 0,
                mark: Mark::Count,
            })
        };
        let mut activity = vec![
            counted("reminders_sent", "Reminders sent")?,
            counted("escalations_sent", "Escalations sent")?,
            counted("incidents_matched", "Incidents matched to a workload")?,
            gap("incidents_unmatched", "Incidents no workload matched", None, 0)?,
            gap(
                "incidents_without_plan",
                "Incidents on a workload without a plan",
                None,
                0,
            )?,
        ];
        // The activity bars share one scale: the largest count.
        let most = activity.iter().map(|f| f.value).max().unwrap_or(0);
        for f in &mut activity {
            f.scale = most;
        }
        Ok(Self {
            as_of,
            window_days: count("window_days")?,
            workloads,
            plans,
            contacts,
            fresh_percent,
            gaps,
            activity,
        })
    }

    /// How many figures are gaps (red).
    pub fn gap_count(&self) -> usize {
        self.gaps
            .iter()
            .chain(&self.activity)
            .filter(|f| f.mark == Mark::Gap)
            .count()
    }
}

/// `as_of` as people read it (`2026-12-02 15:04 UTC`); as given if it is
/// not a timestamp.
pub fn when(as_of: &str) -> String {
    as_of.parse::<jiff::Timestamp>().map_or_else(
        |_| as_of.to_owned(),
        |t| t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// `10000` as `10,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.1} %"))
}

/// `3 of 40 (7.5 %)`, or the value alone.
fn amount(f: &Figure) -> String {
    match f.of {
        Some(whole) if whole > 0 => format!(
            "{} of {} ({:.0} %)",
            thousands(f.value),
            thousands(whole),
            f.value as f64 * 100.0 / whole as f64
        ),
        Some(whole) => format!("{} of {}", thousands(f.value), thousands(whole)),
        None => thousands(f.value),
    }
}

/// The figures as lines for a terminal.
pub fn text(r: &Readiness) -> String {
    let mut out = format!(
        "Readiness as of {} (activity: the last {} days)\n",
        r.as_of, r.window_days
    );
    let mut line = |label: &str, value: String, mark: Mark| {
        let shown = format!("  {label:<42} {value:<24} {}", mark.word());
        let _ = writeln!(out, "{}", shown.trim_end());
    };
    line("Workloads", thousands(r.workloads), Mark::Count);
    line("Active plans", thousands(r.plans), Mark::Count);
    line("Contacts", thousands(r.contacts), Mark::Count);
    line(
        "Contacts fresh",
        percent(r.fresh_percent),
        fresh_mark(r.fresh_percent),
    );
    for f in r.gaps.iter().chain(&r.activity) {
        line(f.label, amount(f), f.mark);
    }
    out
}

/// `s` safe as SVG (XML) text or a quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 810;
const FONT: &str = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif";
const TRACK_X: f64 = 372.0;
const TRACK_W: f64 = 392.0;
const ROW: f64 = 38.0;

fn bar_row(svg: &mut String, y: f64, f: &Figure) {
    let colour = f.mark.colour();
    let whole = f.of.unwrap_or(f.scale);
    let share = if whole > 0 {
        (f.value as f64 / whole as f64).min(1.0)
    } else {
        0.0
    };
    // A figure above zero shows, however small its share.
    let width = if f.value > 0 {
        (share * TRACK_W).max(4.0)
    } else {
        0.0
    };
    let _ = write!(
        svg,
        r##"<g class="figure" data-key="{key}" data-mark="{mark}">
<circle cx="40" cy="{cy}" r="6" fill="{colour}"/>
<text x="54" y="{ty}" font-size="14" fill="#263238">{label}</text>
<rect x="{TRACK_X}" y="{ry}" width="{TRACK_W}" height="20" rx="3" fill="#eceff1"/>
<rect class="bar" x="{TRACK_X}" y="{ry}" width="{width:.1}" height="20" rx="3" fill="{colour}"/>
<text x="{vx}" y="{ty}" font-size="14" font-weight="600" fill="{colour}">{value}</text>
</g>
"##,
        key = f.key,
        mark = f.mark.word(),
        cy = y + 15.0,
        ty = y + 20.0,
        ry = y + 5.0,
        label = escape(f.label),
        vx = TRACK_X + TRACK_W + 12.0,
        value = escape(&amount(f)),
    );
}

fn tile(svg: &mut String, x: f64, label: &str, value: &str, mark: Mark) {
    let _ = write!(
        svg,
        r##"<g class="tile">
<rect x="{x}" y="96" width="212" height="80" rx="6" fill="#f5f7f8" stroke="#cfd8dc"/>
<rect x="{x}" y="96" width="6" height="80" rx="3" fill="{colour}"/>
<text x="{tx}" y="140" font-size="30" font-weight="700" fill="{colour}">{value}</text>
<text x="{tx}" y="164" font-size="13" fill="#546e7a">{label}</text>
</g>
"##,
        colour = mark.colour(),
        tx = x + 20.0,
        value = escape(value),
        label = escape(label),
    );
}

/// The chart, a complete SVG document of [`WIDTH`] × [`HEIGHT`]; `source`
/// (where the figures came from, e.g. the endpoint) is shown at the foot.
pub fn svg(r: &Readiness, source: &str) -> String {
    let gaps = r.gap_count();
    let headline = match gaps {
        0 => "no gap".to_owned(),
        1 => "1 figure is a gap".to_owned(),
        n => format!("{n} figures are gaps"),
    };
    let mut svg = String::with_capacity(12 * 1024);
    let _ = write!(
        svg,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="title desc" font-family="{FONT}">
<title id="title">Support-plan readiness as of {when}</title>
<desc id="desc">The readiness figures of GET /readiness (SPEC §6) as of {as_of}: {headline}.</desc>
<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>
<text x="32" y="48" font-size="26" font-weight="700" fill="#263238">Support-plan readiness</text>
<text x="32" y="76" font-size="14" fill="#546e7a">as of {when} · activity over the last {days} days · {headline}</text>
"##,
        as_of = escape(&r.as_of),
        when = escape(&when(&r.as_of)),
        days = r.window_days,
        headline = escape(&headline),
    );
    tile(&mut svg, 32.0, "workloads", &thousands(r.workloads), Mark::Count);
    tile(&mut svg, 260.0, "active plans", &thousands(r.plans), Mark::Count);
    tile(&mut svg, 488.0, "contacts", &thousands(r.contacts), Mark::Count);
    tile(
        &mut svg,
        716.0,
        "contacts fresh",
        &percent(r.fresh_percent),
        fresh_mark(r.fresh_percent),
    );
    let section = |svg: &mut String, y: f64, title: &str| {
        let _ = writeln!(
            svg,
            r##"<text x="32" y="{y}" font-size="16" font-weight="700" fill="#263238">{}</text>"##,
            escape(title)
        );
    };
    section(&mut svg, 214.0, "Coverage and upkeep");
    for (i, f) in r.gaps.iter().enumerate() {
        bar_row(&mut svg, 224.0 + i as f64 * ROW, f);
    }
    section(
        &mut svg,
        526.0,
        &format!("Activity, the last {} days", r.window_days),
    );
    for (i, f) in r.activity.iter().enumerate() {
        bar_row(&mut svg, 536.0 + i as f64 * ROW, f);
    }
    let mut x = 32.0;
    for (mark, what) in [
        (Mark::Gap, "a gap"),
        (Mark::Soon, "coming due"),
        (Mark::Clear, "no gap"),
        (Mark::Count, "a count"),
    ] {
        let _ = writeln!(
            svg,
            r##"<circle cx="{cx}" cy="752" r="6" fill="{}"/><text x="{tx}" y="757" font-size="13" fill="#263238">{what}</text>"##,
            mark.colour(),
            cx = x + 8.0,
            tx = x + 20.0,
        );
        x += 120.0;
    }
    let _ = write!(
        svg,
        r##"<text x="32" y="778" font-size="12" fill="#546e7a">Bars: the share of the workloads, contacts or plans (activity: of the largest count). Contacts fresh: green at 100 %, amber from 80 %, red below.</text>
<text x="32" y="798" font-size="12" fill="#90a4ae">from {source} · support-plans {version}</text>
</svg>
"##,
        source = escape(source),
        version = env!("CARGO_PKG_VERSION"),
    );
    svg
}
