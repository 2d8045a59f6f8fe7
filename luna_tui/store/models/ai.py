"""The AI companion's tables: personas, chat sessions, their messages, and its memory
(rolling conversation summaries and pinned facts)."""

from __future__ import annotations

from peewee import AutoField, FloatField, ForeignKeyField, IntegerField, TextField

from luna_tui.store.models.base import BaseModel
from luna_tui.store.models.fields import JsonListField
from luna_tui.store.models.patients import Patient


class Persona(BaseModel):
    id = TextField(primary_key=True)
    name = TextField(unique=True)
    description = TextField(null=True)
    system_prompt = TextField()
    temperature = FloatField(default=0.7)
    max_tokens = IntegerField(default=800)
    data_access = JsonListField()  # which kinds of record the persona may read
    builtin = IntegerField(default=0)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "personas"


class ChatSession(BaseModel):
    id = TextField(primary_key=True)
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)  # led by idx_sessions_patient_type
    persona = ForeignKeyField(Persona, column_name="persona_id", null=True, on_delete="SET NULL")
    title = TextField(default="New session")
    session_type = TextField(default="chat")  # chat | check_in | appointment_prep | …
    saved = IntegerField(default=0)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "sessions"


ChatSession.add_index(ChatSession.patient, ChatSession.session_type,
                      ChatSession.updated_at.desc(), name="idx_sessions_patient_type")


class Message(BaseModel):
    id = AutoField()
    session = ForeignKeyField(ChatSession, column_name="session_id", on_delete="CASCADE",
                              index=False)  # led by idx_messages_session_created
    role = TextField()  # system | user | assistant
    content = TextField()
    token_count = IntegerField(null=True)
    finish_reason = TextField(null=True)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "messages"


Message.add_index(Message.session, Message.created_at.desc(),
                  name="idx_messages_session_created")
Message.add_index(Message.session, Message.id, name="idx_messages_session_order")


class ConversationSummary(BaseModel):
    id = TextField(primary_key=True)
    session = ForeignKeyField(ChatSession, column_name="session_id", on_delete="CASCADE",
                              index=False)  # led by the (session, end message) index
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE")
    summary = TextField()
    start_message_id = IntegerField(null=True)
    end_message_id = IntegerField(null=True)
    message_count = IntegerField(default=0)
    method = TextField(default="model")  # model | extractive
    importance_score = FloatField(default=0.5)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "conversation_summaries"
        indexes = ((("session", "end_message_id"), False),)


class SemanticPin(BaseModel):
    id = TextField(primary_key=True)
    session = ForeignKeyField(ChatSession, column_name="session_id", on_delete="CASCADE")
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)  # led by idx_semantic_pins_patient_medical
    message = ForeignKeyField(Message, column_name="message_id", null=True, on_delete="SET NULL")
    content = TextField()
    medical_category = TextField(default="other")
    importance_score = FloatField(default=0.5)
    urgency = TextField(default="normal")  # low | normal | high
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "semantic_pins"


SemanticPin.add_index(SemanticPin.patient, SemanticPin.medical_category,
                      SemanticPin.importance_score.desc(),
                      name="idx_semantic_pins_patient_medical")
