"""All AWS data access (DynamoDB, Secrets Manager, Lambda invoke). boto3 is imported nowhere else.

Endpoints come only from the standard environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same code
talks to AWS, to moto in tests and to the embedded local stack.
"""
