//! Plans and workloads as files (SPEC §12): one per YAML or JSON file, in
//! `DIR/plans/` and `DIR/workloads/`. (Helper `cli-files` writes this.)
