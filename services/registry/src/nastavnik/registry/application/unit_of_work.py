from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from nastavnik.common.auth import Principal
from nastavnik.common.contracts.envelope import Envelope
from nastavnik.common.unit_of_work import SqlUnitOfWork
from nastavnik.registry.adapters.audit import AuditRepository
from nastavnik.registry.adapters.cases import CaseRepository
from nastavnik.registry.adapters.consents import ConsentRepository
from nastavnik.registry.adapters.enrolments import EnrolmentRepository
from nastavnik.registry.adapters.erasure import ErasureRepository
from nastavnik.registry.adapters.headcounts import HeadcountRepository
from nastavnik.registry.adapters.organisations import OrganisationRepository
from nastavnik.registry.adapters.partnerships import PartnershipRepository
from nastavnik.registry.adapters.programmes import ProgrammeRepository
from nastavnik.registry.adapters.questionnaires import QuestionnaireRepository
from nastavnik.registry.adapters.reference import ReferenceRepository
from nastavnik.registry.adapters.registers import RegisterRepository
from nastavnik.registry.adapters.repositories import ParticipantRepository
from nastavnik.registry.adapters.roadmaps import RoadmapRepository
from nastavnik.registry.adapters.tokens import TokenRepository


class RegistryUnitOfWork(SqlUnitOfWork):
    organisations: OrganisationRepository
    participants: ParticipantRepository
    tokens: TokenRepository
    audit: AuditRepository
    headcounts: HeadcountRepository
    partnerships: PartnershipRepository
    consents: ConsentRepository
    erasure: ErasureRepository
    reference: ReferenceRepository
    programmes: ProgrammeRepository
    enrolments: EnrolmentRepository
    roadmaps: RoadmapRepository
    questionnaires: QuestionnaireRepository
    cases: CaseRepository
    registers: RegisterRepository
    actor: Principal | None = None  # who acts; None for the command line

    def _bind_repositories(self, session: AsyncSession) -> None:
        self.audit = AuditRepository(session)
        self.organisations = OrganisationRepository(session)
        self.participants = ParticipantRepository(session)
        self.consents = ConsentRepository(session)
        self.erasure = ErasureRepository(session)
        self.tokens = TokenRepository(session)
        self.headcounts = HeadcountRepository(session)
        self.partnerships = PartnershipRepository(session)
        self.reference = ReferenceRepository(session)
        self.programmes = ProgrammeRepository(session)
        self.enrolments = EnrolmentRepository(session)
        self.roadmaps = RoadmapRepository(session)
        self.questionnaires = QuestionnaireRepository(session)
        self.cases = CaseRepository(session)
        self.registers = RegisterRepository(session)

    async def _before_commit(self, events: list[Envelope]) -> None:
        # every change emits an event, so the events are the audit trail's "what"
        await self.audit.record(self.actor, events)
