"""The job-run framework: leases, run records, watermarks and resumable cursors around each job's body."""
