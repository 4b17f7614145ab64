-- What a draft that changes an existing record would overwrite: the record's values of the
-- changed properties, read from the provider when the draft was queued, as JSON
-- `{"values": {property: value|null}, "unknown": reason|null}`; NULL for drafts that change no
-- existing record. Shown as old → new to the person approving.
ALTER TABLE approvals ADD COLUMN before TEXT;
