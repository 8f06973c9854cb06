//! The API handler's own cost per request, store faked at the HTTP layer
//! (see `bench::overhead`): `GET /plans/{id}` from the API Gateway event to
//! the response body. `make bench` also times the same call one by one for
//! its p99 (`bench overhead`); criterion gives the mean and its interval.

use bench::overhead::Fixture;
use criterion::{Criterion, criterion_group, criterion_main};

fn get_plan(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let fixture = rt.block_on(Fixture::new()).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("api_overhead/get_plan", |b| {
        b.to_async(&rt).iter(|| fixture.get_plan());
    });
}

criterion_group!(benches, get_plan);
criterion_main!(benches);
