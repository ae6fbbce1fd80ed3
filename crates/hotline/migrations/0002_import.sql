-- Columns of imported messages that have no ticket field (留言用户, 点赞数, 反对数,
-- reply_explains, any other column of the file), as a JSON object. Tickets taken in by
-- yiwang itself keep '{}'.
ALTER TABLE hotline_tickets ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
