//! A plain-text account of what the table holds: each workload, the plans it
//! relies on, and what is stale. Read through the store, as the API will.

use std::fmt::Write as _;

use jiff::Timestamp;
use support_plans_aws::DynamoStore;
use support_plans_domain::freshness::{self, ContractState, State};
use support_plans_domain::ports::{
    PageRequest, PlanFilter, PlanStore as _, WorkloadFilter, WorkloadStore as _,
};

fn mark(state: State) -> &'static str {
    match state {
        State::Ok => "ok",
        State::DueSoon => "DUE SOON",
        State::Overdue => "OVERDUE",
    }
}

pub async fn render(store: &DynamoStore, now: Timestamp) -> anyhow::Result<String> {
    let policy = freshness::Policy::default();
    let mut out = String::new();
    let workloads = store
        .list_workloads(&WorkloadFilter::All, &PageRequest::first(100))
        .await?;
    for w in &workloads.items {
        let spec = &w.spec;
        let criticality = serde_json::to_value(spec.criticality)?;
        writeln!(
            out,
            "\nworkload {} ({}, owner {})",
            spec.name,
            criticality.as_str().unwrap_or("?"),
            spec.owner.team
        )?;
        let plans = store
            .list_plans(&PlanFilter::Workload(spec.name.clone()), &PageRequest::first(100))
            .await?;
        for p in &plans.items {
            let f = freshness::evaluate(p, now, &policy);
            let product = if p.spec.product.is_empty() || p.spec.product == p.spec.vendor {
                String::new()
            } else {
                format!(" {}", p.spec.product)
            };
            let (vendor, tier) = (&p.spec.vendor, &p.spec.tier);
            writeln!(
                out,
                "  plan {} — {vendor}{product} ({tier}): {}",
                p.id(),
                mark(f.state())
            )?;
            for c in &f.contacts {
                let when = match c.verified_at {
                    Some(at) => format!("verified {}", at.strftime("%Y-%m-%d")),
                    None => "never verified".to_owned(),
                };
                let detail = match c.due.state {
                    State::Ok => String::new(),
                    State::DueSoon => format!(", due in {} days", c.due.days_left),
                    State::Overdue => format!(", {} days overdue", c.due.days_overdue),
                };
                writeln!(
                    out,
                    "    {:<9} {} — {}{}",
                    mark(c.due.state),
                    c.name,
                    when,
                    detail
                )?;
            }
            if f.review.state != State::Ok {
                writeln!(
                    out,
                    "    {:<9} plan review (due {})",
                    mark(f.review.state),
                    f.review.due_at.strftime("%Y-%m-%d")
                )?;
            }
            if let Some(c) = f.contract.filter(|c| c.contract != ContractState::Current) {
                let what = if c.contract == ContractState::Lapsed {
                    "lapsed on"
                } else {
                    "renews on"
                };
                writeln!(out, "    {:<9} contract {what} {}", mark(c.state), c.renews_on)?;
            }
        }
    }
    Ok(out)
}
