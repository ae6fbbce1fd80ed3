-- The working-day calendar as set by admins. A stored year replaces that year's built-in days
-- entirely; days not listed follow the weekday rule (Monday to Friday work).
CREATE TABLE kernel_calendar_years (
    year BIGINT PRIMARY KEY,
    provisional BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- day is YYYY-MM-DD (China date); kind is holiday or adjusted_workday.
CREATE TABLE kernel_calendar_days (
    day TEXT PRIMARY KEY,
    year BIGINT NOT NULL REFERENCES kernel_calendar_years (year),
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX kernel_calendar_days_year ON kernel_calendar_days (year);
