-- 密评: callers' 手机号 are stored sealed (SM4 + HMAC-SM3, kernel::sealed) and searched, filtered
-- and counted by their keyed HMAC-SM3 index. Rows written before are sealed at start-up
-- (web::seal_at_rest).
ALTER TABLE hotline_tickets ADD COLUMN caller_phone_idx TEXT;
DROP INDEX hotline_tickets_phone;
CREATE INDEX hotline_tickets_phone_idx ON hotline_tickets (caller_phone_idx);
