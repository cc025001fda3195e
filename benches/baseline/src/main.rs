//! The physical-limit baseline for Folio's HTTP benchmarks: a bare axum server that answers
//! every request with the same ~1 KB JSON page model (no auth, no lookup, no rendering).
#![forbid(unsafe_code)]

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;

const BODY: &str = r#"{"code":200,"data":{"content":{"subtitle":"A cold start on the second of January","text":"The lamp came on at 16:02. We replaced one bulb and oiled the rotation gear. The lamp came on at 16:02. We replaced one bulb and oiled the rotation gear.","date":"2024-01-05 00:00:00","featured":true,"tags":["winter","lamp","maintenance"],"category":"news","title":"First Light of the Year","uuid":"5gv2uba3w9xbg929"},"id":"blog/first-light","num":20240105,"options":{"access":true,"changeSlug":true,"changeStatus":true,"changeTemplate":false,"changeTitle":true,"create":true,"delete":true,"duplicate":true,"list":true,"move":true,"preview":true,"read":true,"sort":false,"update":true},"parent":{"id":"blog","num":1,"title":"Logbook","url":"http://127.0.0.1/blog","uuid":"page://nhkaz23pr0lx3dgm"},"slug":"first-light","status":"listed","template":"article","title":"First Light of the Year","url":"http://127.0.0.1/blog/first-light","uuid":"page://5gv2uba3w9xbg929"},"status":"ok","type":"model"}"#;

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        BODY,
    )
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let app = Router::new().fallback(page);
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        eprintln!("baseline on http://{addr}");
        axum::serve(listener, app).await.expect("serve");
    });
}
