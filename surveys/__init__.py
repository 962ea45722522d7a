"""The placevoice domain: data model, services and answer validation. No Flask here."""
