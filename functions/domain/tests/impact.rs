//! SPEC §11 "PagerDuty": an incident's impact from its priority (`P1`…`P5`
//! → 1…5, overridable by configuration) or, without one, its urgency.

use support_plans_domain::impact::{PriorityImpacts, pagerduty_impact};

fn default_impact(priority: Option<&str>, urgency: Option<&str>) -> Option<u8> {
    pagerduty_impact(priority, urgency, &PriorityImpacts::default())
}

#[test]
fn priorities_p1_to_p5_are_impacts_1_to_5() {
    for (priority, impact) in [("P1", 1), ("P2", 2), ("P3", 3), ("P4", 4), ("P5", 5)] {
        assert_eq!(default_impact(Some(priority), None), Some(impact), "{priority}");
    }
    assert_eq!(
        default_impact(Some("p2"), None),
        Some(2),
        "a priority name in any case"
    );
}

#[test]
fn the_priority_wins_over_the_urgency() {
    assert_eq!(default_impact(Some("P4"), Some("high")), Some(4));
    assert_eq!(default_impact(Some("P1"), Some("low")), Some(1));
}

#[test]
fn without_a_priority_the_urgency_decides() {
    assert_eq!(default_impact(None, Some("high")), Some(2));
    assert_eq!(default_impact(None, Some("low")), Some(4));
    assert_eq!(
        default_impact(Some("Sev-A"), Some("high")),
        Some(2),
        "a priority the map does not know is as good as none"
    );
}

#[test]
fn with_neither_the_impact_is_unknown() {
    assert_eq!(default_impact(None, None), None);
    assert_eq!(default_impact(None, Some("medium")), None);
    assert_eq!(default_impact(Some("Sev-A"), None), None);
}

#[test]
fn a_configured_map_adds_to_and_overrides_the_defaults() {
    let map = PriorityImpacts::parse("P1=1,P2=2,SEV-1=1").unwrap();
    assert_eq!(pagerduty_impact(Some("SEV-1"), Some("low"), &map), Some(1));
    assert_eq!(pagerduty_impact(Some("sev-1"), None, &map), Some(1));
    assert_eq!(
        pagerduty_impact(Some("P3"), None, &map),
        Some(3),
        "the defaults stay"
    );

    let map = PriorityImpacts::parse(" P3 = 2 , Critical Outage=1, ").unwrap();
    assert_eq!(pagerduty_impact(Some("P3"), None, &map), Some(2));
    assert_eq!(pagerduty_impact(Some("Critical Outage"), None, &map), Some(1));
    assert_eq!(PriorityImpacts::parse("").unwrap(), PriorityImpacts::default());
    assert_eq!(PriorityImpacts::parse("  ").unwrap(), PriorityImpacts::default());
}

#[test]
fn a_bad_map_is_refused_naming_the_entry_and_what_it_must_be() {
    let cases = [
        ("P1", "entry 1 `P1`", "NAME=IMPACT"),
        ("P1=1,P2", "entry 2 `P2`", "NAME=IMPACT"),
        ("P1=6", "entry 1 `P1=6`", "1 to 5"),
        ("P1=0", "entry 1 `P1=0`", "1 to 5"),
        ("P1=one", "entry 1 `P1=one`", "1 to 5"),
        ("=1", "entry 1 `=1`", "priority name"),
        ("P1=1,p1=2", "entry 2 `p1=2`", "entry 1"),
        ("P1=1=2", "entry 1 `P1=1=2`", "1 to 5"),
    ];
    for (value, names, says) in cases {
        let e = PriorityImpacts::parse(value).unwrap_err().to_string();
        assert!(e.contains(names), "{value:?}: {e}");
        assert!(e.contains(says), "{value:?}: {e}");
    }
    let long = format!("{}=1", "P".repeat(256));
    let e = PriorityImpacts::parse(&long).unwrap_err().to_string();
    assert!(e.contains("255"), "{e}");
}
