//! `support-plans readiness` (SPEC §6, §15): the figures read from the
//! answer, drawn as an SVG that is well-formed XML with every figure in it
//! and every text escaped, and the command run as a user runs it against
//! a stand-in API on loopback. No local stack needed.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support_plans::readiness::{HEIGHT, Mark, Readiness, WIDTH, escape, svg, text};

/// What `GET /readiness` answered at the end of `make demo`.
fn answer() -> Value {
    json!({
        "as_of": "2026-12-02T15:04:05.123Z",
        "workloads": 4,
        "workloads_without_active_plan": 1,
        "tier1_workloads_without_24x7": 0,
        "plans": 4,
        "contacts": 18,
        "contacts_fresh_percent": 72.2,
        "contacts_overdue": 5,
        "owners_unreachable": 1,
        "plans_due_for_review": 2,
        "contracts_renewing": 1,
        "contracts_lapsed": 0,
        "window_days": 30,
        "reminders_sent": 5,
        "escalations_sent": 2,
        "incidents_matched": 2,
        "incidents_unmatched": 0,
        "incidents_without_plan": 0
    })
}

/// One element of the chart: its name, attributes and text.
#[derive(Debug, Default, Clone)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    /// The names of the elements it is in, outermost first.
    path: Vec<String>,
}

/// The document parsed as XML (xmlparser's tokens), every start tag matched
/// by its end tag and one root element; `Err` says where it is not
/// well-formed. Entities are decoded in attributes and text.
fn parse(doc: &str) -> Result<Vec<Element>, String> {
    let decode = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    };
    let mut open: Vec<usize> = Vec::new();
    let mut elements: Vec<Element> = Vec::new();
    let mut roots = 0;
    for token in xmlparser::Tokenizer::from(doc) {
        match token.map_err(|e| e.to_string())? {
            xmlparser::Token::ElementStart { local, .. } => {
                if open.is_empty() {
                    roots += 1;
                }
                elements.push(Element {
                    name: local.to_string(),
                    path: open.iter().map(|&i| elements[i].name.clone()).collect(),
                    ..Element::default()
                });
                open.push(elements.len() - 1);
            }
            xmlparser::Token::Attribute { local, value, .. } => {
                let e = elements.last_mut().ok_or("an attribute outside an element")?;
                if e.attrs.insert(local.to_string(), decode(&value)).is_some() {
                    return Err(format!("attribute {local} twice on <{}>", e.name));
                }
            }
            xmlparser::Token::ElementEnd { end, .. } => match end {
                xmlparser::ElementEnd::Open => {}
                xmlparser::ElementEnd::Empty => {
                    open.pop().ok_or("an empty element closed nothing")?;
                }
                xmlparser::ElementEnd::Close(_, local) => {
                    let i = open.pop().ok_or_else(|| format!("</{local}> closes nothing"))?;
                    if elements[i].name != local.as_str() {
                        return Err(format!("</{local}> closes <{}>", elements[i].name));
                    }
                }
            },
            xmlparser::Token::Text { text } => {
                if let Some(&i) = open.last() {
                    elements[i].text.push_str(&decode(&text));
                } else if !text.trim().is_empty() {
                    return Err(format!("text outside the root: {text}"));
                }
            }
            _ => {}
        }
    }
    if let Some(&i) = open.last() {
        return Err(format!("<{}> is never closed", elements[i].name));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(elements)
}

fn figures(v: &Value) -> Readiness {
    Readiness::from_json(v).expect("the figures")
}

/// Each figure's group (`data-key`): its mark and the texts drawn in it.
fn drawn(elements: &[Element]) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for e in elements {
        if e.name == "g" {
            current = e.attrs.get("data-key").cloned();
            if let Some(key) = &current {
                out.insert(key.clone(), (e.attrs["data-mark"].clone(), Vec::new()));
            }
        } else if e.name == "text"
            && e.path.last().is_some_and(|p| p == "g")
            && let Some(key) = &current
        {
            out.get_mut(key).expect("its group").1.push(e.text.clone());
        }
    }
    out
}

#[test]
fn the_checker_refuses_what_is_not_well_formed() {
    assert!(parse("<svg><g></svg>").unwrap_err().contains("closes <g>"));
    assert!(parse("<svg><g>").unwrap_err().contains("never closed"));
    assert!(parse("<a/><b/>").is_err());
    assert!(parse("<svg><text>a < b</text></svg>").is_err());
    assert!(parse("<svg><text>a &amp; b</text></svg>").is_ok());
    assert!(parse(r#"<svg x="1" x="2"/>"#).unwrap_err().contains("twice"));
}

#[test]
fn the_chart_is_well_formed_svg_of_a_fixed_size() {
    let doc = svg(&figures(&answer()), "GET http://127.0.0.1:9000/readiness");
    assert!(
        doc.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "),
        "{doc}"
    );
    let elements = parse(&doc).unwrap_or_else(|e| panic!("not well-formed: {e}\n{doc}"));
    let root = &elements[0];
    assert_eq!(root.name, "svg");
    assert_eq!(root.attrs["xmlns"], "http://www.w3.org/2000/svg");
    assert_eq!(root.attrs["width"], WIDTH.to_string());
    assert_eq!(root.attrs["height"], HEIGHT.to_string());
    assert_eq!(root.attrs["viewBox"], format!("0 0 {WIDTH} {HEIGHT}"));
    let title = elements.iter().find(|e| e.name == "title").expect("a title");
    assert_eq!(title.text, "Support-plan readiness as of 2026-12-02 15:04 UTC");
    let desc = elements.iter().find(|e| e.name == "desc").expect("a description");
    assert!(
        desc.text
            .contains("as of 2026-12-02T15:04:05.123Z: 4 figures are gaps"),
        "{desc:?}"
    );
    // Everything drawn stays inside the picture.
    for e in &elements {
        for (attr, limit) in [("x", WIDTH), ("y", HEIGHT), ("cx", WIDTH), ("cy", HEIGHT)] {
            if let Some(v) = e.attrs.get(attr) {
                let v: f64 = v.parse().unwrap_or_else(|_| panic!("{attr}={v} on {e:?}"));
                assert!((0.0..=f64::from(limit)).contains(&v), "{attr}={v} on {e:?}");
            }
        }
        if e.name == "rect"
            && let (Some(x), Some(w)) = (e.attrs.get("x"), e.attrs.get("width"))
        {
            let right = x.parse::<f64>().unwrap() + w.parse::<f64>().unwrap();
            assert!(right <= f64::from(WIDTH), "{e:?}");
        }
    }
}

#[test]
fn every_figure_is_drawn_with_its_value_and_marked_by_whether_it_is_a_gap() {
    let doc = svg(&figures(&answer()), "GET http://127.0.0.1:9000/readiness");
    let elements = parse(&doc).unwrap();
    let drawn = drawn(&elements);
    let expect = [
        ("workloads_without_active_plan", "gap", "1 of 4 (25 %)"),
        ("tier1_workloads_without_24x7", "ok", "0 of 4 (0 %)"),
        ("contacts_overdue", "gap", "5 of 18 (28 %)"),
        ("owners_unreachable", "gap", "1"),
        ("plans_due_for_review", "gap", "2 of 4 (50 %)"),
        ("contracts_lapsed", "ok", "0 of 4 (0 %)"),
        ("contracts_renewing", "soon", "1 of 4 (25 %)"),
        ("reminders_sent", "", "5"),
        ("escalations_sent", "", "2"),
        ("incidents_matched", "", "2"),
        ("incidents_unmatched", "ok", "0"),
        ("incidents_without_plan", "ok", "0"),
    ];
    assert_eq!(drawn.len(), expect.len(), "{drawn:?}");
    for (key, mark, value) in expect {
        let (m, texts) = &drawn[key];
        assert_eq!(m, mark, "{key}");
        assert_eq!(texts.len(), 2, "{key}: a label and a value: {texts:?}");
        assert_eq!(texts[1], value, "{key}");
    }
    // The red of a gap, the green of none, the amber of what is coming.
    let fill_of = |key: &str| {
        let group = elements
            .iter()
            .position(|e| e.attrs.get("data-key").is_some_and(|k| k == key))
            .unwrap();
        elements[group..]
            .iter()
            .find(|e| e.attrs.get("class").is_some_and(|c| c == "bar"))
            .unwrap()
            .attrs["fill"]
            .clone()
    };
    assert_eq!(fill_of("contacts_overdue"), "#c62828");
    assert_eq!(fill_of("tier1_workloads_without_24x7"), "#2e7d32");
    assert_eq!(fill_of("contracts_renewing"), "#ef8f00");
    // The totals and the fresh percentage in the tiles.
    let texts: Vec<&str> = elements
        .iter()
        .filter(|e| e.name == "text")
        .map(|e| e.text.as_str())
        .collect();
    for t in [
        "4",
        "18",
        "72.2 %",
        "contacts fresh",
        "Activity, the last 30 days",
    ] {
        assert!(texts.contains(&t), "{t} not in {texts:?}");
    }
    assert!(
        texts.iter().any(|t| t.contains("4 figures are gaps")),
        "{texts:?}"
    );
}

#[test]
fn a_bar_is_the_share_of_its_whole_and_a_small_one_still_shows() {
    let mut v = answer();
    v["plans"] = json!(10_000);
    v["plans_due_for_review"] = json!(1);
    v["contracts_lapsed"] = json!(10_000);
    let elements = parse(&svg(&figures(&v), "x")).unwrap();
    let width = |key: &str| -> f64 {
        let group = elements
            .iter()
            .position(|e| e.attrs.get("data-key").is_some_and(|k| k == key))
            .unwrap();
        let bar = elements[group..]
            .iter()
            .find(|e| e.attrs.get("class").is_some_and(|c| c == "bar"))
            .unwrap();
        bar.attrs["width"].parse().unwrap()
    };
    let track: f64 = elements
        .iter()
        .find(|e| e.name == "rect" && e.attrs.get("fill").is_some_and(|f| f == "#eceff1"))
        .unwrap()
        .attrs["width"]
        .parse()
        .unwrap();
    assert_eq!(width("contracts_lapsed"), track);
    assert!((1.0..=6.0).contains(&width("plans_due_for_review")));
    assert_eq!(width("tier1_workloads_without_24x7"), 0.0);
    let drawn = drawn(&elements);
    assert_eq!(drawn["contracts_lapsed"].1[1], "10,000 of 10,000 (100 %)");
}

#[test]
fn text_from_the_answer_and_the_endpoint_is_escaped() {
    assert_eq!(
        escape(r#"<b>"Tom" & 'Jerry'</b>"#),
        "&lt;b&gt;&quot;Tom&quot; &amp; &apos;Jerry&apos;&lt;/b&gt;"
    );
    assert_eq!(escape("a\u{1}b"), "a\u{fffd}b");
    let mut v = answer();
    v["as_of"] = json!("2026-12-02</text><script>alert(1)</script>&x");
    let source = "GET https://api.example.com/prod?a=1&b=<2>/readiness";
    let doc = svg(&figures(&v), source);
    assert!(!doc.contains("<script>"), "{doc}");
    let elements = parse(&doc).unwrap_or_else(|e| panic!("not well-formed: {e}\n{doc}"));
    assert!(!elements.iter().any(|e| e.name == "script"));
    let texts: Vec<&str> = elements.iter().map(|e| e.text.as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("as of 2026-12-02</text><script>alert(1)</script>&x")),
        "the text is shown as it was: {texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains(source)), "{texts:?}");
}

#[test]
fn the_lines_mark_each_gap_and_a_missing_figure_is_named() {
    let shown = text(&figures(&answer()));
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(
        lines[0],
        "Readiness as of 2026-12-02T15:04:05.123Z (activity: the last 30 days)"
    );
    let line = |label: &str| {
        *lines
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no line {label}: {shown}"))
    };
    let words = |l: &str| {
        l.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(words(line("Active plans")), "Active plans 4");
    assert_eq!(words(line("Contacts fresh")), "Contacts fresh 72.2 % gap");
    assert_eq!(
        words(line("Workloads without an active plan")),
        "Workloads without an active plan 1 of 4 (25 %) gap"
    );
    assert_eq!(
        words(line("Tier-1 workloads without a 24x7 channel")),
        "Tier-1 workloads without a 24x7 channel 0 of 4 (0 %) ok"
    );
    assert_eq!(
        words(line("Contracts renewing within 60 days")),
        "Contracts renewing within 60 days 1 of 4 (25 %) soon"
    );
    assert_eq!(words(line("Reminders sent")), "Reminders sent 5");
    assert!(lines.iter().all(|l| l.len() == l.trim_end().len()), "{shown:?}");

    let mut none = answer();
    none["contacts"] = json!(0);
    none["contacts_overdue"] = json!(0);
    none["contacts_fresh_percent"] = Value::Null;
    let f = figures(&none);
    assert_eq!(f.fresh_percent, None);
    let shown = text(&f);
    let fresh = shown.lines().find(|l| l.contains("Contacts fresh")).unwrap();
    assert_eq!(words(fresh), "Contacts fresh n/a");

    let mut old = answer();
    old.as_object_mut().unwrap().remove("owners_unreachable");
    let e = Readiness::from_json(&old).unwrap_err();
    assert!(e.contains("no figure owners_unreachable"), "{e}");
    assert_eq!(support_plans::readiness::fresh_mark(Some(100.0)), Mark::Clear);
    assert_eq!(support_plans::readiness::fresh_mark(Some(85.0)), Mark::Soon);
    assert_eq!(support_plans::readiness::fresh_mark(Some(72.2)), Mark::Gap);
}

/// A stand-in for the API on loopback: answers one request with `body` and
/// hands back the request's first line and headers.
fn stand_in(body: Value) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            head.push(line.trim().to_owned());
        }
        let body = body.to_string();
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        stream.flush().unwrap();
        let _ = stream.read(&mut [0; 1]);
        head
    });
    (url, served)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("readiness")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_command_prints_the_figures_and_writes_the_chart_where_asked() {
    let (url, served) = stand_in(answer());
    // A folder that does not exist yet: created.
    let file = scratch("command").join("demo/readiness.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_support-plans"))
        .args([
            "readiness",
            "--endpoint",
            &url,
            "--as",
            "lead@platform.example.com",
            "--svg",
        ])
        .arg(&file)
        .env_remove("SUPPORT_PLANS_TOKEN")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let head = served.join().unwrap();
    assert_eq!(head[0], "GET /readiness HTTP/1.1");
    assert!(
        head.iter()
            .any(|h| h.eq_ignore_ascii_case("x-local-principal: lead@platform.example.com")),
        "{head:?}"
    );
    assert!(
        stdout.starts_with("Readiness as of 2026-12-02T15:04:05.123Z"),
        "{stdout}"
    );
    assert!(stdout.contains("Plan owners reminders do not reach"), "{stdout}");
    assert!(
        stderr.contains(&format!("chart written to {}", file.display())),
        "{stderr}"
    );
    let doc = std::fs::read_to_string(&file).unwrap();
    let elements = parse(&doc).unwrap();
    assert_eq!(drawn(&elements).len(), 12);
    assert!(doc.contains(&format!("from GET {url}/readiness")), "{doc}");
}

#[test]
fn json_output_is_the_answer_and_a_bad_answer_fails_naming_it() {
    let (url, served) = stand_in(answer());
    let out = Command::new(env!("CARGO_BIN_EXE_support-plans"))
        .args([
            "readiness",
            "--endpoint",
            &url,
            "--as",
            "dana",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    served.join().unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, answer());

    let (url, served) = stand_in(json!({"as_of": "2026-12-02T15:04:05Z"}));
    let file = scratch("bad").join("readiness.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_support-plans"))
        .args(["readiness", "--endpoint", &url, "--as", "dana", "--svg"])
        .arg(&file)
        .output()
        .unwrap();
    served.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("support-plans readiness: the answer of GET /readiness has no figure"),
        "{stderr}"
    );
    assert!(!file.exists(), "no chart of an answer that is not readiness");
}
