//! Spreadsheets in and out (being written).
