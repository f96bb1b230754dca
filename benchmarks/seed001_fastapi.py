"""Seed 001's FastAPI `GET /api/tokens/usage`, reproduced as the seed wrote it: the reference the
P5 benchmark compares Kosh's usage endpoint with. Not part of Kosh; `api_read_throughput.py`
installs its dependencies into a separate virtualenv (benchmarks/.venv-seed001) on demand.

Kept from the seed: the SQLAlchemy `users`/`user_plans` tables, `create_engine(...,
pool_pre_ping=True)`, a session per request through `Depends(get_db)`, python-jose HS256
verification of `user_id` or `sub`, an `async def` route that calls the synchronous session, the
lazy month reset and the TokenUsageResponse model, CORS for the two frontend origins.
Changed, because the seed's text cannot run as written or on this machine: PostgreSQL (psycopg)
instead of MySQL; `HTTPAuthorizationCredentials` (the seed imports `HTTPAuthCredential`, which
FastAPI does not have); the seed's modules folded into this one file.
"""

import os
from datetime import datetime
from typing import Optional

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jose import JWTError, jwt
from pydantic import BaseModel
from sqlalchemy import Boolean, Column, DateTime, Float, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import declarative_base, relationship, sessionmaker

DATABASE_URL = os.environ["SEED001_DATABASE_URL"]  # postgresql+psycopg://...
JWT_SECRET = os.environ["JWT_SECRET"]
JWT_ALGORITHM = "HS256"
PLAN_CONFIGS = {
    "basic": {"id": "basic", "name": "Basic", "price": 0, "tokens": 1000, "duration_days": None},
    "standard": {"id": "standard", "name": "Standard", "price": 2900, "tokens": 10000, "duration_days": 30},
    "premium": {"id": "premium", "name": "Premium", "price": 9900, "tokens": 50000, "duration_days": 30},
}

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True, index=True)
    name = Column(String(255), nullable=False)
    email = Column(String(255), unique=True, nullable=False, index=True)
    phone = Column(String(20))
    password_hash = Column(String(255))
    business_name = Column(String(255))
    is_whatsapp_verified = Column(Boolean, default=False)
    industry_type = Column(String(100))
    sub_industry = Column(String(100))
    core_processes = Column(String(1000))
    monthly_revenue = Column(Float)
    employees = Column(Integer)
    goal_amount = Column(Float)
    goal_years = Column(Integer)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)

    user_plans = relationship("UserPlan", back_populates="user", uselist=False)


class UserPlan(Base):
    __tablename__ = "user_plans"

    id = Column(Integer, primary_key=True, index=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True)
    plan = Column(String(20), default="basic", index=True)
    token_quota = Column(Integer, nullable=False)
    token_used = Column(Integer, default=0)
    plan_end_at = Column(DateTime, nullable=True, index=True)
    last_reset_month = Column(Integer)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)

    user = relationship("User", back_populates="user_plans")


class TokenUsageResponse(BaseModel):
    plan: str
    token_quota: int
    token_used: int
    remaining: int
    plan_end_at: Optional[datetime] = None  # noqa: UP045 - the seed's spelling

    class Config:
        from_attributes = True


engine = create_engine(DATABASE_URL, pool_pre_ping=True, echo=False)
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base.metadata.create_all(bind=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


security = HTTPBearer()


def verify_token(credentials: HTTPAuthorizationCredentials) -> int:
    token = credentials.credentials
    try:
        payload = jwt.decode(token, JWT_SECRET, algorithms=[JWT_ALGORITHM])
        user_id = payload.get("user_id") or payload.get("sub")
        if user_id is None:
            raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="unauthorized")
        return int(user_id)
    except JWTError as exc:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="unauthorized") from exc


app = FastAPI(title="Token Management API")
app.add_middleware(
    CORSMiddleware,
    allow_origins=["http://localhost:5173", "http://localhost:3000"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)


@app.get("/api/tokens/usage", response_model=TokenUsageResponse)
async def get_usage(credentials: HTTPBearer = Depends(security), db=Depends(get_db)):  # noqa: B008
    user_id = verify_token(credentials)
    user_plan = db.query(UserPlan).filter(UserPlan.user_id == user_id).first()
    if not user_plan:
        user_plan = UserPlan(user_id=user_id, plan="basic", token_quota=PLAN_CONFIGS["basic"]["tokens"],
                             token_used=0, plan_end_at=None, last_reset_month=datetime.utcnow().month)
        db.add(user_plan)
        db.commit()
        db.refresh(user_plan)
        return TokenUsageResponse(plan="basic", token_quota=PLAN_CONFIGS["basic"]["tokens"], token_used=0,
                                  remaining=PLAN_CONFIGS["basic"]["tokens"], plan_end_at=None)
    current_month = datetime.utcnow().month
    if user_plan.last_reset_month != current_month:
        user_plan.token_used = 0
        user_plan.last_reset_month = current_month
        db.commit()
    remaining = user_plan.token_quota - user_plan.token_used
    return TokenUsageResponse(plan=user_plan.plan, token_quota=user_plan.token_quota,
                              token_used=user_plan.token_used, remaining=remaining,
                              plan_end_at=user_plan.plan_end_at)


@app.get("/api/health")
async def health():
    return {"status": "ok"}
