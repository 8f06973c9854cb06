//! `support-plans lint`: every problem of every file as `file: field:
//! message`, offline. (Helper `cli-files` writes this.)
