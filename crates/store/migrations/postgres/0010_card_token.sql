-- The token a card's QR code carries, kept so that the worker can show their own card on /me.
-- (It is printed on the card: nothing more secret than the card itself.) Cards issued before
-- this have none until they are printed again.
ALTER TABLE certificates ADD COLUMN token TEXT;
