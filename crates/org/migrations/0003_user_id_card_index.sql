-- Other modules reach a record's holder by 身份证号 (a license's expiry reminder).
CREATE INDEX org_users_id_card ON org_users (id_card);
