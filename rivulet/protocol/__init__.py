"""HTTP and the AWS JSON 1.0 wire format only: no DynamoDB semantics here."""
