"""The community directory: organisations and offers in Open Referral UK shape, the
public site, coordinators' tools, the Open Referral API, import and export."""
