//! `local-stack`: the local stack's own tooling.
//!
//! ```text
//! local-stack create-table --name NAME [--template PATH]
//! local-stack list-tables
//! local-stack seed --table NAME [--samples DIR]
//! local-stack age --table NAME [--samples DIR]
//! local-stack report --table NAME
//! local-stack link --table NAME --plan ID --contact ID [--days-ago N]
//! ```
//! Endpoints and credentials come from the environment (`.local/env`); `link`
//! signs with the stack's verification key (`VERIFY_KEY_SECRET_ARN`).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use local_stack::{TableDefinition, create_table, report, sdk_error, seed, template_path};
use support_plans_aws::DynamoStore;
use support_plans_domain::model::{Actor, Change};
use support_plans_domain::ports::{PlanStore as _, VerifyKeys as _, WorkloadStore as _};
use support_plans_domain::token::{self, LinkFor};
use support_plans_domain::types::Slug;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = support_plans_aws::sdk::config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    match args.first().map(String::as_str) {
        Some("create-table") => {
            let name = flag(&args, "--name").context("--name is required")?;
            let path = flag(&args, "--template").map_or_else(template_path, PathBuf::from);
            let def = TableDefinition::from_template(&path)?;
            create_table(&client, &def, &name).await?;
            eprintln!(
                "created table {name} from {} ({})",
                path.display(),
                def.logical_id
            );
        }
        Some("list-tables") => {
            let out = client.list_tables().send().await.map_err(sdk_error)?;
            for t in out.table_names() {
                println!("{t}");
            }
        }
        Some("seed") => {
            let table = flag(&args, "--table").context("--table is required")?;
            let dir = flag(&args, "--samples").map_or_else(seed::samples_dir, PathBuf::from);
            let samples = seed::load(&dir, jiff::Timestamp::now())?;
            let store = DynamoStore::new(client, table);
            for p in &samples.plans {
                store
                    .create_plan(p)
                    .await
                    .with_context(|| format!("plan {}", p.id()))?;
            }
            for w in &samples.workloads {
                store
                    .create_workload(w)
                    .await
                    .with_context(|| format!("workload {}", w.name()))?;
            }
            eprintln!(
                "seeded {} plans and {} workloads",
                samples.plans.len(),
                samples.workloads.len()
            );
        }
        Some("age") => {
            // The sample plans were loaded through the API a moment ago; give
            // each the history seed.json describes (a new version, conditional
            // on the one read, like any write).
            let table = flag(&args, "--table").context("--table is required")?;
            let dir = flag(&args, "--samples").map_or_else(seed::samples_dir, PathBuf::from);
            let seeds = seed::read_seed(&dir)?;
            let actor = Actor::parse("local-seed").map_err(anyhow::Error::msg)?;
            let store = DynamoStore::new(client, table);
            let now = jiff::Timestamp::now();
            for (id, s) in &seeds.plans {
                let slug = Slug::parse(id).map_err(anyhow::Error::msg)?;
                let current = store
                    .get_plan(&slug)
                    .await?
                    .with_context(|| format!("plan {id} is not in the table; load the samples first"))?;
                let next = seed::backdated(&current, s, &actor, now)?;
                store
                    .put_plan_version(&next, Change::Replaced)
                    .await
                    .with_context(|| format!("plan {id}"))?;
            }
            eprintln!("backdated {} plans as seed.json says", seeds.plans.len());
        }
        Some("report") => {
            let table = flag(&args, "--table").context("--table is required")?;
            let store = DynamoStore::new(client, table);
            print!("{}", report::render(&store, jiff::Timestamp::now()).await?);
        }
        Some("link") => {
            // A one-click link's token for a contact as the plan is stored
            // now, as the freshness check signs it; issued N days ago (an
            // expired link: more than 14). For the browser test.
            let table = flag(&args, "--table").context("--table is required")?;
            let plan = flag(&args, "--plan").context("--plan is required")?;
            let contact = flag(&args, "--contact").context("--contact is required")?;
            let days: i64 = flag(&args, "--days-ago").map_or(Ok(0), |d| d.parse())?;
            let secret =
                std::env::var("VERIFY_KEY_SECRET_ARN").context("VERIFY_KEY_SECRET_ARN is not set")?;
            let keys = support_plans_aws::secrets::SecretsManagerKeys::from_sdk(&config, secret)
                .read_keys()
                .await?;
            let slug = Slug::parse(&plan).map_err(anyhow::Error::msg)?;
            let plan = DynamoStore::new(client, table)
                .get_plan(&slug)
                .await?
                .with_context(|| format!("no plan {plan}"))?;
            let c = plan
                .spec
                .contacts
                .iter()
                .find(|c| c.id.as_str() == contact)
                .with_context(|| format!("no contact {contact} in plan {}", plan.id()))?;
            let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
            println!("{}", token::issue(&keys, &LinkFor::of(&plan, c), at));
        }
        _ => bail!(
            "usage: local-stack create-table --name NAME [--template PATH] | list-tables | seed --table NAME | age --table NAME | report --table NAME | link --table NAME --plan ID --contact ID [--days-ago N]"
        ),
    }
    Ok(())
}
