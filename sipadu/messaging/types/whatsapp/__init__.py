"""The WhatsApp Business Cloud API channel: client, webhook, conversation, local fake."""
